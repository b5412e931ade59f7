package adminui

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
)

// The inbox is for every role. It shows conversations and their messages
// and lets a user reply, transfer and end; of the configuration it shows
// integration names only, which it gets from GET
// /api/conversations/integrations, never from the integrations API.

// conversation is the admin API's view of a conversation.
type conversation struct {
	ID            string    `json:"id"`
	IntegrationID string    `json:"integrationId"`
	ExternalID    string    `json:"externalId"`
	Subject       string    `json:"subject"`
	Status        string    `json:"status"`
	Contact       contact   `json:"contact"`
	TeamID        string    `json:"teamId"`
	Channel       string    `json:"channel"`
	LastMessageAt time.Time `json:"lastMessageAt"`
}

// Open reports whether the conversation still takes replies.
func (c conversation) Open() bool { return c.Status != domain.ConversationEnded }

type contact struct {
	ID         string `json:"id"`
	ExternalID string `json:"externalId"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
}

// Label is how the contact is called: by name, else email, phone or id.
func (c contact) Label() string {
	for _, s := range []string{c.Name, c.Email, c.Phone, c.ExternalID} {
		if s != "" {
			return s
		}
	}
	return "Unknown contact"
}

// message is the admin API's view of a message.
type message struct {
	ID           string    `json:"id"`
	Direction    string    `json:"direction"`
	Content      string    `json:"content"`
	ContentType  string    `json:"contentType"`
	SentAt       time.Time `json:"sentAt"`
	Status       string    `json:"status"`
	Error        string    `json:"error"`
	MediaURL     string    `json:"mediaUrl"`
	MediaCaption string    `json:"mediaCaption"`
}

// IsHTML reports whether the content is HTML, shown sanitised; any other
// content is text, shown escaped.
func (m message) IsHTML() bool { return m.ContentType == "html" }

// HTML is the content of an HTML message, sanitised.
func (m message) HTML() template.HTML { return messageHTML(m.Content) }

// named is an object the inbox knows by id and name: an integration, a team.
type named struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// inboxView is what the conversations page shows: the thread list, with
// its filter and page, and the open thread, if any.
type inboxView struct {
	Integrations []named
	Filter       string // the integration the list is filtered by
	Cursor       string // the list's page
	Threads      []conversation
	Next         string

	Thread   *conversation
	Messages []message // oldest first
	Before   string    // the page of messages shown; "" for the newest
	Earlier  string    // the page of the messages before these
	Teams    []named

	Notice *notice
	Draft  string // a refused reply, to send again
}

// threadsPerPage and messagesPerPage bound what one page shows.
const (
	threadsPerPage  = 50
	messagesPerPage = 100
)

func (u *UI) inboxRoutes() {
	u.mux.Handle("GET /conversations", u.page(anyone, u.showInbox))
	u.mux.Handle("GET /conversations/{id}", u.page(anyone, u.showInbox))
	u.mux.HandleFunc("GET /conversations/live", u.liveInbox)
	u.mux.Handle("POST /conversations/{id}/messages", u.page(anyone, u.replyConversation))
	u.mux.Handle("POST /conversations/{id}/transfer", u.page(anyone, u.transferConversation))
	u.mux.Handle("POST /conversations/{id}/end", u.page(anyone, u.endConversation))
}

// newInboxView reads the list's filter and page, and the page of messages,
// from the query.
func newInboxView(r *http.Request) *inboxView {
	q := r.URL.Query()
	return &inboxView{Filter: q.Get("integration"), Cursor: q.Get("cursor"), Before: q.Get("before")}
}

// query is the list's state, to keep in every link: the filter and page.
func (v *inboxView) query(extra ...string) string {
	q := url.Values{}
	if v.Filter != "" {
		q.Set("integration", v.Filter)
	}
	if v.Cursor != "" {
		q.Set("cursor", v.Cursor)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			q.Set(extra[i], extra[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func threadPath(id string) string    { return "/conversations/" + url.PathEscape(id) }
func apiThreadPath(id string) string { return "/api" + threadPath(id) }

// path is the page's own path: the open thread's, or the bare list's.
func (v *inboxView) path() string {
	if v.Thread == nil {
		return "/conversations"
	}
	return threadPath(v.Thread.ID)
}

// Link opens a thread, keeping the list as it is.
func (v *inboxView) Link(id string) string { return threadPath(id) + v.query() }

// Selected reports whether id is the open thread.
func (v *inboxView) Selected(id string) bool { return v.Thread != nil && v.Thread.ID == id }

// ListPage is this page with the list at another page.
func (v *inboxView) ListPage(cursor string) string {
	w := *v
	w.Cursor = cursor
	return w.path() + w.query()
}

// EarlierLink shows the messages before those shown; NewestLink the newest.
func (v *inboxView) EarlierLink() string { return v.path() + v.query("before", v.Earlier) }
func (v *inboxView) NewestLink() string  { return v.path() + v.query() }

// Refresh is the URL that renders one fragment of this page, with the
// newest messages: a page of earlier ones does not refresh.
func (v *inboxView) Refresh(fragment string) string {
	return v.path() + v.query("fragment", fragment)
}

// Action is where a form about the open thread posts.
func (v *inboxView) Action(action string) string {
	return v.path() + "/" + action + v.query()
}

// FilterAction is where the filter form goes: this page, the list's first page.
func (v *inboxView) FilterAction() string { return v.path() }

// IntegrationName names an integration; "" when it is gone.
func (v *inboxView) IntegrationName(id string) string { return nameOf(v.Integrations, id) }

// TeamName names a team; "" when there is none.
func (v *inboxView) TeamName(id string) string { return nameOf(v.Teams, id) }

func nameOf(list []named, id string) string {
	for _, n := range list {
		if n.ID == id {
			return n.Name
		}
	}
	return ""
}

// load fills the view with what the fragment asked for (all of it for the
// whole page): the list, the open thread with its messages, or both.
func (u *UI) load(r *http.Request, s *domain.Session, v *inboxView, id string) error {
	fragment := r.URL.Query().Get("fragment")
	if fragment == "" || fragment == "threads" {
		if err := u.loadThreads(r, s, v); err != nil {
			return err
		}
	}
	if id == "" {
		return nil
	}
	var conv conversation
	if err := u.call(r, s, "GET", apiThreadPath(id), nil, &conv); err != nil {
		return err
	}
	if conv.ID != id {
		return errNoThread
	}
	v.Thread = &conv
	if fragment != "" && fragment != "thread" {
		return nil
	}
	if v.Integrations == nil {
		if err := u.loadIntegrations(r, s, v); err != nil {
			return err
		}
	}
	var teams struct {
		Teams []named `json:"teams"`
	}
	if err := u.call(r, s, "GET", "/api/teams?limit=500", nil, &teams); err != nil {
		return err
	}
	v.Teams = teams.Teams
	var msgs struct {
		Messages   []message `json:"messages"`
		NextCursor string    `json:"nextCursor"`
	}
	q := url.Values{"limit": {strconv.Itoa(messagesPerPage)}}
	if v.Before != "" {
		q.Set("cursor", v.Before)
	}
	if err := u.call(r, s, "GET", apiThreadPath(id)+"/messages?"+q.Encode(), nil, &msgs); err != nil {
		return err
	}
	// The API answers newest first; a thread reads oldest first.
	for i := len(msgs.Messages) - 1; i >= 0; i-- {
		v.Messages = append(v.Messages, msgs.Messages[i])
	}
	v.Earlier = msgs.NextCursor
	return nil
}

func (u *UI) loadThreads(r *http.Request, s *domain.Session, v *inboxView) error {
	if err := u.loadIntegrations(r, s, v); err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(threadsPerPage)}}
	if v.Filter != "" {
		q.Set("integrationId", v.Filter)
	}
	if v.Cursor != "" {
		q.Set("cursor", v.Cursor)
	}
	var list struct {
		Conversations []conversation `json:"conversations"`
		NextCursor    string         `json:"nextCursor"`
	}
	if err := u.call(r, s, "GET", "/api/conversations?"+q.Encode(), nil, &list); err != nil {
		return err
	}
	v.Threads, v.Next = list.Conversations, list.NextCursor
	return nil
}

func (u *UI) loadIntegrations(r *http.Request, s *domain.Session, v *inboxView) error {
	var list struct {
		Integrations []named `json:"integrations"`
	}
	if err := u.call(r, s, "GET", "/api/conversations/integrations?limit=500", nil, &list); err != nil {
		return err
	}
	v.Integrations = list.Integrations
	if v.Integrations == nil {
		v.Integrations = []named{}
	}
	return nil
}

// errNoThread answers a thread id that names no conversation.
var errNoThread = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "There is no such conversation."}

// threadID is the path's thread id, when it can be one: the API's ids are
// UUIDs. One with a slash or a dot would make another API path.
func threadID(r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if len(id) > 64 {
		return "", false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "", false
		}
	}
	return id, true
}

// showInbox renders the list, and the thread {id} beside it when one is
// open; ?fragment=threads or ?fragment=thread renders only that part.
func (u *UI) showInbox(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	id, ok := threadID(r)
	if !ok {
		u.apiFail(w, r, s, errNoThread)
		return
	}
	v := newInboxView(r)
	if err := u.load(r, s, v, id); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "transferred":
		v.Notice = &notice{"ok", "Transferred."}
		if v.Thread != nil && v.TeamName(v.Thread.TeamID) != "" {
			v.Notice.Text = "Transferred to " + v.TeamName(v.Thread.TeamID) + "."
		}
	case "ended":
		v.Notice = &notice{"ok", "The conversation has ended."}
	}
	u.render(w, r, s, http.StatusOK, "conversations", v)
}

// replyConversation sends an agent's reply. A refusal (the conversation
// has ended, a channel's reply window is closed) shows as a notice, with
// the reply kept to send again.
func (u *UI) replyConversation(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	content := formText(r, "content")
	u.inboxAction(w, r, s, "messages", map[string]any{"content": content}, content, "", "The reply was not sent")
}

func (u *UI) transferConversation(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	u.inboxAction(w, r, s, "transfer", map[string]any{"teamId": r.PostFormValue("teamId")}, "", "transferred", "The conversation was not transferred")
}

func (u *UI) endConversation(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	u.inboxAction(w, r, s, "end", nil, "", "ended", "The conversation was not ended")
}

// inboxAction posts an action on the thread {id} to the API, then goes back
// to the thread, at its newest message, saying what was done. A refusal of
// the request itself (400, 409, 422) shows on the thread as a notice that
// starts with failed and gives the API's reason, with draft kept in the
// reply box.
func (u *UI) inboxAction(w http.ResponseWriter, r *http.Request, s *domain.Session, action string, in any, draft, done, failed string) {
	id, ok := threadID(r)
	if !ok || id == "" {
		u.apiFail(w, r, s, errNoThread)
		return
	}
	v := newInboxView(r)
	err := u.call(r, s, "POST", apiThreadPath(id)+"/"+action, in, nil)
	if err == nil {
		http.Redirect(w, r, threadPath(id)+v.query("done", done)+"#newest", http.StatusSeeOther)
		return
	}
	ae, ok := err.(*apiError)
	if !ok || (ae.Status != http.StatusBadRequest && ae.Status != http.StatusConflict && ae.Status != http.StatusUnprocessableEntity) {
		u.apiFail(w, r, s, err)
		return
	}
	if err := u.load(r, s, v, id); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	v.Notice, v.Draft = &notice{"error", failed + ": " + ae.Message + "."}, draft
	u.render(w, r, s, ae.Status, "conversations", v)
}
