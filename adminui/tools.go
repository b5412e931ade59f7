package adminui

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/core/domain"
)

// toolRoutes registers the pages of API details with Try Out, recent events and the transform editor of an integration.
func (u *UI) toolRoutes() {
	u.mux.Handle("GET /integrations/{id}/events", u.page(staff, u.eventsPage))
	u.mux.Handle("GET /integrations/{id}/api", u.page(staff, u.apiPage))
	u.mux.Handle("POST /integrations/{id}/api", u.page(staff, u.apiCurl))
	u.mux.Handle("GET /integrations/{id}/transform", u.page(staff, u.transformPage))
	u.mux.Handle("POST /integrations/{id}/transform/test", u.page(staff, u.transformTest))
	u.mux.Handle("POST /integrations/{id}/transform", u.page(staff, u.transformSave))
}

// ---- Recent events ---------------------------------------------------------

// eventStatuses are the statuses the event log filters by, in the order the
// filter lists them.
var eventStatuses = []string{domain.EventOK, domain.EventSignatureFailure, domain.EventSkip, domain.EventRoutingError}

type event struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	EventType string    `json:"eventType"`
	Error     string    `json:"error"`
	CreatedAt time.Time `json:"createdAt"`
}

type eventsView struct {
	Integration integration
	// Status is the filter, "" for every status.
	Status   string
	Statuses []string
	Events   []event
	// Cursor is the page shown, "" for the newest; Next the older one.
	Cursor, Next string
	// Refresh is the URL of the table alone, with the filter: the table
	// refreshes itself only on the newest page.
	Refresh string
}

// Link is the URL of the events page with another filter.
func (v eventsView) Link(status string) string {
	p := "/integrations/" + url.PathEscape(v.Integration.ID) + "/events"
	if status != "" {
		p += "?status=" + url.QueryEscape(status)
	}
	return p
}

// Older is the URL of the next, older page.
func (v eventsView) Older() string {
	q := url.Values{"cursor": {v.Next}}
	if v.Status != "" {
		q.Set("status", v.Status)
	}
	return "/integrations/" + url.PathEscape(v.Integration.ID) + "/events?" + q.Encode()
}

func (u *UI) eventsPage(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	id := r.PathValue("id")
	v := eventsView{Integration: integration{ID: id}, Statuses: eventStatuses, Cursor: r.URL.Query().Get("cursor")}
	if st := r.URL.Query().Get("status"); slices.Contains(eventStatuses, st) {
		v.Status = st
	}
	limit := 50
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n <= 500 {
		limit = n
	}
	if r.URL.Query().Get("fragment") == "" {
		// The table alone, refreshed every few seconds, needs no heading.
		in, err := u.getIntegration(r, s, id)
		if err != nil {
			u.apiFail(w, r, s, err)
			return
		}
		v.Integration = in
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if v.Status != "" {
		q.Set("status", v.Status)
	}
	if v.Cursor != "" {
		q.Set("cursor", v.Cursor)
	}
	var list struct {
		Events     []event `json:"events"`
		NextCursor string  `json:"nextCursor"`
	}
	if err := u.call(r, s, "GET", "/api/integrations/"+url.PathEscape(id)+"/events?"+q.Encode(), nil, &list); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	v.Events, v.Next = list.Events, list.NextCursor
	if v.Cursor == "" {
		rq := url.Values{"fragment": {"events"}}
		if v.Status != "" {
			rq.Set("status", v.Status)
		}
		if limit != 50 {
			rq.Set("limit", strconv.Itoa(limit))
		}
		v.Refresh = "/integrations/" + url.PathEscape(id) + "/events?" + rq.Encode()
	}
	u.render(w, r, s, http.StatusOK, "integrations-events", v)
}

// ---- API details and Try Out ----------------------------------------------

// kindInfo is what the UI reads of a plugin: its kind, channel and how its
// inbound traffic is authenticated.
type kindInfo struct {
	Kind        string `json:"kind"`
	DisplayName string `json:"displayName"`
	Channel     string `json:"channel"`
	State       string `json:"state"`
	// Auth is api_key, signature or public; "" from a hub that does not say.
	Auth string `json:"auth"`
}

// Auth modes of a kind's inbound traffic (sdk.AuthMode).
const (
	authAPIKey    = "api_key"
	authSignature = "signature"
	authPublic    = "public"
)

// apiParam is a header, a path parameter or a body field of an API.
type apiParam struct {
	Name     string
	Value    string
	Required bool
	Text     string
}

// apiAnswer is one answer an API gives.
type apiAnswer struct {
	Status string
	Body   string
	Text   string
}

// apiDoc describes one of an integration's APIs, with its Try Out form.
type apiDoc struct {
	// Name is the API's name in forms: inbound or response.
	Name   string
	Title  string
	Intro  string
	Method string
	// URL is the endpoint as shown; a response API's has {chatIdentifier}.
	URL string
	// Path is the endpoint's path on this hub, which the browser's Send
	// fetches from the page's own origin; a response API's ends in
	// /chats/, the chat and /events are appended.
	Path       string
	Auth       string
	PathParams []apiParam
	Headers    []apiParam
	Body       []apiParam
	Answers    []apiAnswer
	Notes      []string
	// Key describes the secret Send needs, "" when the API takes none;
	// KeyHeaders the ways it may be sent, the first the default.
	Key, KeyPlaceholder, KeyEnv string
	KeyHeaders                  []string
	// ConfirmSend is asked before Send, when sending acts on real people.
	ConfirmSend string
	// EventsAfterSend: the answer says nothing, the event log tells.
	EventsAfterSend bool
	Try             tryOut
}

// tryOut is a Try Out form as typed: never the key, which the form does not
// send to this server.
type tryOut struct {
	Body  string
	Chat  string
	KeyAs string
	Curl  string
	// Warning is about the body (not JSON); Error why no command was built.
	Warning, Error string
}

type connectionURL struct {
	Code, Channel, Sender, InboundURL, Kind string
}

type apiView struct {
	Integration integration
	Kind        kindInfo
	APIs        []*apiDoc
	// NoResponse says why the response API is not shown, "" when it is.
	NoResponse  string
	Connections []connectionURL
	// Posted names the API whose Try Out was sent.
	Posted string
}

// API returns the API named name, or nil.
func (v *apiView) API(name string) *apiDoc {
	for _, a := range v.APIs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Key sources: a secret never enters a built command or the page; the
// command reads it from the shell.
const (
	keyEnv   = "SWITCHBOARD_API_KEY"
	tokenEnv = "SWITCHBOARD_RESPONSE_TOKEN"
)

// The ways a custom integration's key may be sent.
const (
	keyAsHeader = "X-Api-Key"
	keyAsBearer = "Authorization: Bearer"
)

func (u *UI) apiPage(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	v, err := u.apiData(r, s, r.PathValue("id"))
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	u.render(w, r, s, http.StatusOK, "integrations-api", v)
}

// apiCurl builds the curl command of a Try Out form. It sends nothing: the
// browser's Send does, from the page, to this hub's own endpoints.
func (u *UI) apiCurl(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	v, err := u.apiData(r, s, r.PathValue("id"))
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	a := v.API(r.PostFormValue("api"))
	if a == nil {
		u.renderError(w, r, s, http.StatusBadRequest, "There is no such API on this integration.")
		return
	}
	v.Posted = a.Name
	a.Try.Body = formText(r, "body")
	if a.Name == "response" {
		a.Try.Chat = strings.TrimSpace(r.PostFormValue("chat"))
	}
	if k := r.PostFormValue("keyAs"); slices.Contains(a.KeyHeaders, k) {
		a.Try.KeyAs = k
	}
	status := http.StatusOK
	if cmd, err := a.curl(v.Integration); err != nil {
		a.Try.Error = err.Error()
		status = http.StatusUnprocessableEntity
	} else {
		a.Try.Curl = cmd
		if !json.Valid([]byte(a.Try.Body)) {
			a.Try.Warning = "The body is not valid JSON: the hub will take it as it is and log what it made of it."
		}
	}
	u.render(w, r, s, status, "integrations-api", v)
}

// endpoint is the URL of the API for the form's values.
func (a *apiDoc) endpoint(in integration) (string, error) {
	if a.Name != "response" {
		return a.URL, nil
	}
	chat := a.Try.Chat
	if err := checkChat(chat); err != nil {
		return "", err
	}
	return responseBase(in) + "/integrations/live-chat/" + url.PathEscape(in.ID) + "/chats/" + url.PathEscape(chat) + "/events", nil
}

// tryProblem is why a Try Out form's command cannot be built, worded for
// the form.
type tryProblem string

func (p tryProblem) Error() string { return string(p) }

// checkChat refuses a chat identifier that is not one path segment of
// text: "." and ".." would move the request to another path.
func checkChat(chat string) error {
	switch {
	case chat == "":
		return tryProblem("Give the chat identifier: the chat's chatId as delivered, e.g. the contact's number.")
	case chat == "." || chat == "..":
		return tryProblem(`A chat identifier cannot be "." or "..".`)
	case len(chat) > 255:
		return tryProblem("A chat identifier is at most 255 bytes.")
	case !utf8.ValidString(chat) || strings.IndexFunc(chat, unicode.IsControl) >= 0:
		return tryProblem("A chat identifier is text without control characters.")
	}
	return nil
}

// curl is the command that sends the form's body to the API. Every value
// that came from the form is single-quoted; the key is read from the
// environment, so it is never part of the command or the page.
func (a *apiDoc) curl(in integration) (string, error) {
	if strings.IndexByte(a.Try.Body, 0) >= 0 {
		return "", tryProblem("The body holds a NUL byte, which no shell command can carry.")
	}
	target, err := a.endpoint(in)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("curl -sS -X ")
	b.WriteString(a.Method)
	b.WriteByte(' ')
	b.WriteString(shellQuote(target))
	b.WriteString(" \\\n  -H 'Content-Type: application/json'")
	if a.Key != "" {
		keyAs := a.Try.KeyAs
		if keyAs == "" {
			keyAs = a.KeyHeaders[0]
		}
		prefix := "Authorization: Bearer "
		if keyAs == keyAsHeader {
			prefix = keyAsHeader + ": "
		}
		b.WriteString(" \\\n  -H ")
		b.WriteString(shellQuote(prefix))
		b.WriteString(`"$` + a.KeyEnv + `"`)
	}
	b.WriteString(" \\\n  --data-raw ")
	b.WriteString(shellQuote(a.Try.Body))
	return b.String(), nil
}

// shellQuote quotes s for a POSIX shell: inside single quotes nothing is
// special, and a single quote is closed, escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// responseBase is the hub's base URL as the integration's inbound URL shows it.
func responseBase(in integration) string {
	return strings.TrimSuffix(in.InboundURL, "/api/webhooks/"+in.Kind+"/"+in.ID)
}

// apiData gathers what the API page shows: the integration, its kind's
// plugin, its connections, and a document of each API it has.
func (u *UI) apiData(r *http.Request, s *domain.Session, id string) (*apiView, error) {
	in, err := u.getIntegration(r, s, id)
	if err != nil {
		return nil, err
	}
	var plugins struct {
		Plugins []kindInfo `json:"plugins"`
	}
	if err := u.call(r, s, "GET", "/api/plugins", nil, &plugins); err != nil {
		return nil, err
	}
	v := &apiView{Integration: in, Kind: kindInfo{Kind: in.Kind}}
	byChannel := map[string]string{}
	for _, p := range plugins.Plugins {
		if p.Kind == in.Kind && p.Channel == "" {
			v.Kind = p
		}
		if p.Channel != "" {
			byChannel[p.Channel] = p.Kind
		}
	}
	var conns []connection
	if len(in.Connections) > 0 {
		var list struct {
			Connections []connection `json:"connections"`
		}
		if err := u.call(r, s, "GET", "/api/connections?limit=500", nil, &list); err != nil {
			return nil, err
		}
		listed := map[string]bool{}
		for _, c := range in.Connections {
			listed[c.Code] = true
		}
		for _, c := range list.Connections {
			if listed[c.Code] {
				conns = append(conns, c)
				v.Connections = append(v.Connections, connectionURL{Code: c.Code, Channel: c.Channel, Sender: c.Sender, InboundURL: c.InboundURL, Kind: byChannel[c.Channel]})
			}
		}
	}
	if in.Kind == webchatKind {
		// Visitors post to the chat's own routes, and the response API
		// answers them by their visitor id.
		v.APIs = append(v.APIs, webchatDoc(in), webchatResponseDoc(in))
		return v, nil
	}
	v.APIs = append(v.APIs, inboundDoc(in, v.Kind))
	// The response API answers in chats on the integration's connections.
	// It is shown for every custom integration, whose connections may come
	// later, and for any other that lists connections.
	if in.Kind == "custom" || len(in.Connections) > 0 {
		v.APIs = append(v.APIs, responseDoc(in, conns))
	} else {
		v.NoResponse = "The response API answers in chats on SMS or WhatsApp connections, and this integration lists none."
	}
	return v, nil
}

// inboundDoc describes the integration's inbound API: the custom webhook's
// in full, another kind's as far as the hub knows it.
func inboundDoc(in integration, k kindInfo) *apiDoc {
	a := &apiDoc{
		Name: "inbound", Method: "POST", URL: in.InboundURL,
		Path: "/api/webhooks/" + url.PathEscape(in.Kind) + "/" + url.PathEscape(in.ID),
	}
	keyed := func() {
		a.Key, a.KeyPlaceholder, a.KeyEnv = "Inbound API key", "sbk_…", keyEnv
		a.KeyHeaders = []string{keyAsHeader, keyAsBearer}
		a.Headers = append(a.Headers,
			apiParam{Name: "X-Api-Key", Value: "sbk_…", Required: true, Text: "The integration's inbound API key, shown once when it was made or regenerated."},
			apiParam{Name: "Authorization", Value: "Bearer sbk_…", Text: "Instead of X-Api-Key."})
	}
	a.Headers = []apiParam{{Name: "Content-Type", Value: "application/json", Required: true}}
	if in.Kind == "custom" {
		a.Title = "Inbound API: the custom webhook"
		a.Intro = "Your application sends each message of its conversations here."
		keyed()
		a.Auth = "The inbound API key, in X-Api-Key or as Authorization: Bearer."
		a.Body = []apiParam{
			{Name: "messageId", Value: "string", Required: true, Text: "Your id of the message: a repeat is skipped, nothing is stored twice."},
			{Name: "conversationId", Value: "string", Required: true, Text: "Your id of the conversation: one thread per value on this integration."},
			{Name: "from.externalId", Value: "string", Required: true, Text: "The sender in your system."},
			{Name: "from.name", Value: "string", Text: "The sender's name."},
			{Name: "from.email", Value: "string", Text: "Matches the contact case-insensitively across the workspace."},
			{Name: "content", Value: "string", Required: true, Text: "The message."},
			{Name: "contentType", Value: "text | html", Text: "text when left out; stored as sent."},
			{Name: "subject", Value: "string", Text: "Taken from a thread's first message only."},
			{Name: "sentAt", Value: "ISO-8601 time", Text: "The time of receipt when left out."},
		}
		a.Answers = []apiAnswer{
			{Status: "200", Body: `"ok"`, Text: "Always, once the outcome is recorded, whatever happened: the event log says what."},
			{Status: "503", Body: `{"error": "unavailable", …}`, Text: "Only when the hub could record nothing: send it again."},
		}
		a.Notes = []string{
			"ok: the message is stored.",
			"signature_failure: the key is missing or wrong.",
			"skip: a messageId already stored, or the integration is stopped.",
			"routing_error: an invalid payload (the error names the field), a body over the limit, or a failure to route it.",
		}
		a.EventsAfterSend = true
		a.Try.Body = customSample(in)
		return a
	}
	a.Title = "Inbound API: " + in.Kind
	if k.DisplayName != "" {
		a.Title = "Inbound API: " + k.DisplayName
	}
	a.Intro = "Traffic for this integration arrives here and is read by the " + in.Kind + " plugin, which defines the body."
	switch k.Auth {
	case authAPIKey, "":
		keyed()
		a.Auth = "The inbound API key, in X-Api-Key or as Authorization: Bearer; the hub checks it before the plugin reads the request."
		if k.Auth == "" {
			a.Auth = "Not reported by the plugin; most kinds take the inbound API key, in X-Api-Key or as Authorization: Bearer."
		}
	case authSignature:
		a.Auth = "A signature the provider computes: the " + in.Kind + " plugin checks it with the secrets in the integration's settings. An unsigned request is logged as signature_failure."
	case authPublic:
		a.Auth = "None: anyone may post here, as a website's visitors do."
	default:
		a.Auth = k.Auth
	}
	if k.State != "" && k.State != "running" {
		a.Notes = append(a.Notes, "The "+in.Kind+" plugin is "+k.State+": traffic that arrives meanwhile is kept and read when it is back.")
	}
	a.Answers = []apiAnswer{
		{Status: "200", Body: `"ok" or the plugin's answer`, Text: "Once the outcome is recorded: the event log says what happened."},
		{Status: "503", Body: `{"error": "unavailable", …}`, Text: "Only when the hub could record nothing: send it again."},
	}
	a.EventsAfterSend = true
	a.Try.Body = "{\n}"
	return a
}

// webchatDoc describes what a website chat's widget posts: a visitor's
// message, to the chat's own route, without a key.
func webchatDoc(in integration) *apiDoc {
	path := "/webchat/" + url.PathEscape(in.ID) + "/messages"
	a := &apiDoc{
		Name: "inbound", Title: "Visitors' messages: the website chat",
		Intro:  "The widget posts each message a visitor writes here, from your website's pages; a chat window of your own may too.",
		Method: "POST", URL: responseBase(in) + path, Path: path,
		Auth: "None: anyone may post, as your website's visitors do. The visitor id names the visitor's conversation and is what reads it back: keep it as secret as a session cookie. " +
			"When the settings list allowedOrigins, only pages of those websites (and the demo page) may post.",
		Headers: []apiParam{{Name: "Content-Type", Value: "application/json", Required: true}},
		Body: []apiParam{
			{Name: "visitorId", Value: "string", Required: true, Text: "22 to 64 characters of A-Z a-z 0-9 - _: the widget makes 32 random bytes, base64url, and keeps them in the browser."},
			{Name: "messageId", Value: "string", Required: true, Text: "8 to 64 of the same characters: a repeat of a stored one is dropped, so a message may be sent again safely."},
			{Name: "content", Value: "string", Required: true, Text: "The text, at most 4 KiB; shown as text, never as markup."},
			{Name: "name", Value: "string", Text: "The visitor's name, as the page knows it (the script element's data-name); not verified."},
			{Name: "email", Value: "string", Text: "The visitor's email (data-email); contacts are matched by it, and it is not verified."},
		},
		Answers: []apiAnswer{
			{Status: "202", Body: `{"status": "accepted"}`, Text: "Stored, or a repeat of a stored message."},
			{Status: "403", Body: `{"error": "forbidden", …}`, Text: "The page's website is not in allowedOrigins."},
			{Status: "413", Body: `{"error": "too_large", …}`, Text: "A body over 64 KiB."},
			{Status: "422", Body: `{"error": "validation_failed", …}`, Text: "A field is missing or invalid: the message names it."},
			{Status: "429", Body: `{"error": "rate_limited", …}`, Text: "Too many messages from this visitor or address: wait a moment (Retry-After)."},
			{Status: "503", Body: `{"error": "unavailable", …}`, Text: "The integration is stopped, or the message could not be recorded: send it again."},
		},
		Notes: []string{
			"GET " + responseBase(in) + "/webchat/" + url.PathEscape(in.ID) + "/events?visitor={visitorId} streams the visitor's conversation as Server-Sent Events: the latest messages, then each new one, the visitor's and the answers, as it is stored.",
			"Sending from this page opens a conversation in the inbox, under the visitor id of the sample.",
		},
	}
	a.Try.Body = orderedJSON("visitorId", randomVisitorID(), "messageId", "try-"+strconv.FormatInt(time.Now().UnixMilli(), 36),
		"content", "Hi! Is my order ready?", "name", "Jane Smith", "email", "jane@example.com")
	return a
}

// randomVisitorID is a visitor id as the widget makes one.
func randomVisitorID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// responseAPIDoc is what every description of the response API shares:
// its route, its token, its headers and the answers that do not depend on
// the channel. The caller adds the chat identifier's meaning, the body and
// the channel's own answers.
func responseAPIDoc(in integration, title, intro, chatText string) *apiDoc {
	return &apiDoc{
		Name: "response", Title: title, Intro: intro,
		Method: "POST",
		URL:    responseBase(in) + "/integrations/live-chat/" + url.PathEscape(in.ID) + "/chats/{chatIdentifier}/events",
		Path:   "/integrations/live-chat/" + url.PathEscape(in.ID) + "/chats/",
		Auth:   "The integration's response token, as Authorization: Bearer sbr_….",
		Key:    "Response API token", KeyPlaceholder: "sbr_…", KeyEnv: tokenEnv, KeyHeaders: []string{keyAsBearer},
		PathParams: []apiParam{{Name: "chatIdentifier", Value: "string", Required: true, Text: chatText}},
		Headers: []apiParam{
			{Name: "Content-Type", Value: "application/json", Required: true},
			{Name: "Authorization", Value: "Bearer sbr_…", Required: true, Text: "The integration's response token, shown once when it was made or regenerated."},
		},
	}
}

// unauthorizedAnswer is the response API's answer to a missing or wrong token.
var unauthorizedAnswer = apiAnswer{Status: "401", Body: `{"error": "unauthorized", …}`, Text: "The token is missing or wrong."}

// webchatResponseDoc describes the response API of a website chat: the
// chat is the visitor's, named by the visitor id, and the answer goes to
// the widget.
func webchatResponseDoc(in integration) *apiDoc {
	a := responseAPIDoc(in, "Response API: answer a visitor",
		"Your system answers a visitor of the website chat, or ends the chat: the answer appears in the visitor's widget, as an agent's reply does.",
		"The visitor id: the chatId delivered with the visitor's messages, the conversation's externalId in the API.")
	a.Body = []apiParam{
		{Name: "type", Value: "MESSAGE | END", Required: true, Text: "An answer to the visitor, or the end of the chat."},
		{Name: "msg", Value: "string", Text: "Required for MESSAGE: the text, at most 4096 bytes, shown as text."},
		{Name: "channel.type", Value: "WEBCHAT", Text: "May be left out, with channel."},
	}
	a.Answers = []apiAnswer{
		{Status: "202", Body: `{"id": "…", "status": "…"}`, Text: "MESSAGE: the stored answer, on its way to the widget. END: the conversation, status ended."},
		unauthorizedAnswer,
		{Status: "404", Body: `{"error": "not_found", …}`, Text: "No chat with that visitor id on this integration: a chat exists once the visitor has written."},
		{Status: "409", Body: `{"error": "conflict", …}`, Text: "The chat has ended."},
		{Status: "422", Body: `{"error": "validation_failed", …}`, Text: "An invalid body."},
	}
	a.ConfirmSend = "A MESSAGE goes to that visitor's widget, if there is such a chat. Send it?"
	a.Try.Chat = "VISITOR_ID"
	a.Try.Body = orderedJSON("type", "MESSAGE", "msg", "Thanks for writing! Your order ships today.")
	return a
}

// responseDoc describes the response API, its sample answering on the
// integration's first connection.
func responseDoc(in integration, conns []connection) *apiDoc {
	a := responseAPIDoc(in, "Response API: answer in a chat",
		"Your system answers a contact in a chat on one of the integration's SMS or WhatsApp connections, or ends the chat.",
		"The chat's chatId as delivered: the contact's number as the provider writes it.")
	a.Body = []apiParam{
		{Name: "type", Value: "MESSAGE | END", Required: true, Text: "A message to the contact, or the end of the chat."},
		{Name: "channel.type", Value: "SMS | WHATSAPP", Text: "Required for MESSAGE: the chat's channel."},
		{Name: "channel.connection", Value: "string", Text: "A connection's code; with sender and route, each given must match the active connection the message goes out through. With none, it goes out through the connection the contact last wrote to."},
		{Name: "channel.sender", Value: "string", Text: "The connection's sender."},
		{Name: "channel.route", Value: "string", Text: "The connection's route."},
		{Name: "msg", Value: "string", Text: "Required for MESSAGE: the text, at most 4096 bytes."},
	}
	a.Answers = []apiAnswer{
		{Status: "202", Body: `{"id": "…", "status": "queued"}`, Text: "MESSAGE: the stored message, queued for the provider. END: the conversation, status ended."},
		unauthorizedAnswer,
		{Status: "404", Body: `{"error": "not_found", …}`, Text: "No chat with that identifier on this integration: a chat exists once the contact has written."},
		{Status: "409", Body: `{"error": "conflict", …}`, Text: "The chat has ended, or the channel's reply window closed (WhatsApp: 24 hours after the contact's last message)."},
		{Status: "422", Body: `{"error": "validation_failed", …}`, Text: "An invalid body, or no active connection of the integration matching channel."},
	}
	a.ConfirmSend = "A MESSAGE goes to the contact of that chat, if there is one. Send it?"
	if len(conns) == 0 {
		a.Notes = append(a.Notes, "This integration lists no connections yet, so it has no chats: every call answers 404 until a contact writes on one.")
	}
	a.Try.Chat = "+15555550123"
	type channel struct {
		Type       string `json:"type"`
		Connection string `json:"connection,omitempty"`
		Sender     string `json:"sender,omitempty"`
	}
	ch := channel{Type: "SMS", Connection: "sms-main"}
	if len(conns) > 0 {
		c := conns[0]
		ch = channel{Type: c.Channel, Connection: c.Code}
		if c.Channel == "WHATSAPP" {
			ch = channel{Type: c.Channel, Sender: c.Sender}
		}
	}
	a.Try.Body = orderedJSON("type", "MESSAGE", "channel", ch, "msg", "Thanks for writing! Your order ships today.")
	return a
}

// customSample is a message as an application would send it.
func customSample(in integration) string {
	now := time.Now().UTC()
	return orderedJSON(
		"messageId", "msg-"+strconv.FormatInt(now.UnixMilli(), 36),
		"conversationId", "order-1042",
		"from", map[string]any{"externalId": "user_42", "name": "Jane Smith", "email": "jane@example.com"},
		"content", "Hi! Where is my order #1042?",
		"contentType", "text",
		"subject", "Order #1042",
		"sentAt", now.Truncate(time.Second).Format(time.RFC3339),
	)
}

// orderedJSON writes an object with its keys in the given order, indented.
func orderedJSON(kv ...any) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	var out bytes.Buffer
	json.Indent(&out, b.Bytes(), "", "  ")
	return out.String()
}

// ---- Transform editor ------------------------------------------------------

// starterScript fills the editor of an integration without a transform.
const starterScript = `// Runs before each delivery: change the request, or return null to skip it.
// request: {method, url, params, headers, body}; event: the variables, e.g. event["contact.name"].
function transform(request, event) {
  return request;
}
`

// dryRun is the admin API's answer to a transform test.
type dryRun struct {
	Request *struct {
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Skipped bool     `json:"skipped"`
	Logs    []string `json:"logs"`
	Error   string   `json:"error"`
	Curl    string   `json:"curl"`
}

// HasBody reports whether the request carries a body.
func (d *dryRun) HasBody() bool {
	return d.Request != nil && len(d.Request.Body) > 0 && string(d.Request.Body) != "null"
}

type sourceLine struct {
	N     int
	Text  string
	Error bool
}

type transformView struct {
	Integration integration
	// Method and URL are the delivery target's; FromOutbound says it is the
	// outboundUrl shorthand, which Save turns into a full target.
	Method, URL  string
	FromOutbound bool
	Script       string
	Event        string
	Result       *dryRun
	// EventError is why the sample event could not be used.
	EventError string
	// ScriptError is a refused Save's message about the script, shown
	// beside the editor; SaveError any other reason a Save was refused.
	ScriptError, SaveError string
	// ErrorLine is the script's line an error names, 0 when none; Listing
	// the lines around it.
	ErrorLine int
	Listing   []sourceLine
	Saved     bool
}

// HasTarget reports whether the integration has a delivery target.
func (v *transformView) HasTarget() bool { return v.URL != "" }

// target is the delivery target the integration has now, as the admin API
// shows it: its secrets redacted, which a save sent back keeps.
func target(in integration) (map[string]json.RawMessage, bool) {
	var t map[string]json.RawMessage
	if len(in.Delivery) > 0 && json.Unmarshal(in.Delivery, &t) == nil && t != nil {
		return t, true
	}
	if in.OutboundURL != "" {
		u, _ := json.Marshal(in.OutboundURL)
		return map[string]json.RawMessage{"method": json.RawMessage(`"POST"`), "url": u}, true
	}
	return nil, false
}

func (u *UI) transformData(r *http.Request, s *domain.Session, id string) (*transformView, error) {
	in, err := u.getIntegration(r, s, id)
	if err != nil {
		return nil, err
	}
	v := &transformView{Integration: in}
	if t, ok := target(in); ok {
		json.Unmarshal(t["method"], &v.Method)
		json.Unmarshal(t["url"], &v.URL)
		json.Unmarshal(t["transform"], &v.Script)
		v.FromOutbound = len(in.Delivery) == 0
	}
	return v, nil
}

func (u *UI) transformPage(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	v, err := u.transformData(r, s, r.PathValue("id"))
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	if v.Script == "" {
		v.Script = starterScript
	}
	v.Event = sampleEvent(v.Integration)
	v.Saved = r.URL.Query().Get("done") == "saved"
	u.render(w, r, s, http.StatusOK, "integrations-transform", v)
}

// transformTest runs the typed script on the typed event, with the
// integration's templates, and shows the request it would send.
func (u *UI) transformTest(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	v, err := u.transformData(r, s, r.PathValue("id"))
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	v.Script, v.Event = formText(r, "script"), formText(r, "event")
	var ev map[string]any
	if strings.TrimSpace(v.Event) != "" {
		if err := json.Unmarshal([]byte(v.Event), &ev); err != nil {
			v.EventError = "The sample event is not a JSON object: " + err.Error()
			u.render(w, r, s, http.StatusUnprocessableEntity, "integrations-transform", v)
			return
		}
	}
	var res dryRun
	err = u.call(r, s, "POST", "/api/integrations/"+url.PathEscape(v.Integration.ID)+"/transform/test",
		map[string]any{"script": v.Script, "event": ev}, &res)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status < 500 {
		res = dryRun{Error: ae.Message}
	} else if err != nil {
		u.fail(w, r, s, err)
		return
	}
	v.Result = &res
	v.markLine(res.Error)
	u.render(w, r, s, http.StatusOK, "integrations-transform", v)
}

// transformSave stores the script in the integration's delivery target,
// sending the rest of the target back as the API showed it: its redacted
// secrets tell the API to keep the stored ones.
func (u *UI) transformSave(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	v, err := u.transformData(r, s, r.PathValue("id"))
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	v.Script, v.Event = formText(r, "script"), formText(r, "event")
	t, ok := target(v.Integration)
	if !ok {
		v.ScriptError = "This integration has no delivery target, and a transform shapes a delivery's request: set a target on the Edit page first."
		u.render(w, r, s, http.StatusUnprocessableEntity, "integrations-transform", v)
		return
	}
	// The starter changes nothing: saved as it is, it would only make each
	// delivery wait for a sandbox.
	if strings.TrimSpace(v.Script) == "" || strings.TrimSpace(v.Script) == strings.TrimSpace(starterScript) {
		delete(t, "transform")
	} else {
		t["transform"], _ = json.Marshal(v.Script)
	}
	id := v.Integration.ID
	if err := u.call(r, s, "PATCH", "/api/integrations/"+url.PathEscape(id), map[string]any{"delivery": t}, nil); err != nil {
		fe, ok := errorsOf(err)
		if !ok {
			u.apiFail(w, r, s, err)
			return
		}
		if msg, ok := fe.Fields["delivery.transform"]; ok {
			v.ScriptError = msg
			v.markLine(msg)
		} else if msg, ok := fe.Fields["delivery"]; ok {
			v.SaveError = msg
		} else {
			v.SaveError = fe.Form
		}
		u.render(w, r, s, http.StatusUnprocessableEntity, "integrations-transform", v)
		return
	}
	http.Redirect(w, r, "/integrations/"+url.PathEscape(id)+"/transform?done=saved", http.StatusSeeOther)
}

// scriptLine finds the line a script error names: "… (transform.js line 3, column 18)".
var scriptLine = regexp.MustCompile(`\(transform\.js line (\d+), column \d+\)`)

// markLine notes the line msg names and the lines around it.
func (v *transformView) markLine(msg string) {
	m := scriptLine.FindStringSubmatch(msg)
	if m == nil {
		return
	}
	n, _ := strconv.Atoi(m[1])
	lines := strings.Split(v.Script, "\n")
	if n < 1 || n > len(lines) {
		return
	}
	v.ErrorLine = n
	for i := max(1, n-3); i <= min(len(lines), n+3); i++ {
		v.Listing = append(v.Listing, sourceLine{N: i, Text: strings.TrimRight(lines[i-1], "\r"), Error: i == n})
	}
}

// sampleEvent is an event as the integration's deliveries see it, keyed
// by variable: a contact's message in a chat on its first connection, or,
// without connections, an agent's reply in an app conversation.
func sampleEvent(in integration) string {
	now := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	msgID := "01a1fe7b-0000-7000-8000-000000000001"
	if len(in.Connections) > 0 {
		c := in.Connections[0]
		return orderedJSON(
			"event", "MESSAGE",
			"direction", "inbound",
			"channel", c.Channel,
			"chatId", "+15555550123",
			"conversationId", "+15555550123",
			"contact", "+15555550123",
			"sender", c.Sender,
			"messageId", msgID,
			"content", "Hi, is my order ready?",
			"text", "Hi, is my order ready?",
			"multimedia.url", "",
			"multimedia.caption", "",
			"timestamp", now,
			"integrationId", in.ID,
		)
	}
	return orderedJSON(
		"event", "MESSAGE",
		"direction", "outbound",
		"channel", in.Kind,
		"conversationId", "order-1042",
		"chatId", "order-1042",
		"contact", "user_42",
		"contact.name", "Jane Smith",
		"contact.email", "jane@example.com",
		"contact.externalId", "user_42",
		"messageId", msgID,
		"content", "Your order ships today.",
		"text", "Your order ships today.",
		"timestamp", now,
		"integrationId", in.ID,
	)
}
