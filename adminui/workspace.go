package adminui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/switchboardhq/switchboard/core/domain"
)

// workspaceRoutes registers the pages of connections, campaigns and auto-replies, teams, admin tokens and users.
func (u *UI) workspaceRoutes() {
	u.mux.Handle("GET /connections", u.page(staff, u.listConnections))
	u.mux.Handle("GET /connections/new", u.page(staff, u.newConnection))
	u.mux.Handle("POST /connections", u.page(staff, u.createConnection))
	u.mux.Handle("POST /connections/{id}/delete", u.page(staff, u.deleteConnection))

	u.mux.Handle("GET /campaigns", u.page(staff, u.listCampaigns))
	u.mux.Handle("POST /campaigns", u.page(staff, u.createCampaign))
	u.mux.Handle("POST /campaigns/{id}/live", u.page(staff, u.setCampaign("live")))
	u.mux.Handle("POST /campaigns/{id}/pause", u.page(staff, u.setCampaign("pause")))
	u.mux.Handle("POST /auto-replies", u.page(staff, u.createAutoReply))
	u.mux.Handle("POST /auto-replies/{id}/active", u.page(staff, u.setAutoReplyActive))
	u.mux.Handle("POST /auto-replies/{id}/delete", u.page(staff, u.deleteAutoReply))

	u.mux.Handle("GET /teams", u.page(staff, u.listTeams))
	u.mux.Handle("POST /teams", u.page(staff, u.createTeam))

	u.mux.Handle("GET /tokens", u.page(staff, u.listTokens))
	// A token can do anything in the workspace, managing users included:
	// only an owner makes one (docs/security.md).
	u.mux.Handle("POST /tokens", u.page(owners, u.createToken))
	u.mux.Handle("POST /tokens/{id}/revoke", u.page(staff, u.revokeToken))

	u.mux.Handle("GET /users", u.page(owners, u.listUsers))
	u.mux.Handle("POST /users", u.page(owners, u.createUser))
	u.mux.Handle("POST /users/{id}/delete", u.page(owners, u.deleteUser))
}

// notice is a line at the top of a page after an action. Its text is
// always the UI's own or the API's, never taken from the query string.
type notice struct {
	Kind string // ok, warning or error
	Text string
}

// doneNotice turns ?done=CODE into its notice; unknown codes show nothing.
func doneNotice(r *http.Request, texts map[string]string) *notice {
	if t, ok := texts[r.URL.Query().Get("done")]; ok {
		return &notice{Kind: "ok", Text: t}
	}
	return nil
}

// refusalNotice shows a refusal of the API (a 409, say) as a notice.
func refusalNotice(err error) (*notice, int, bool) {
	ae, ok := err.(*apiError)
	if !ok || ae.Status >= 500 || ae.Status == http.StatusNotFound {
		return nil, 0, false
	}
	return &notice{Kind: "error", Text: ae.Message}, ae.Status, true
}

// placedErrors sorts a refusal into field messages; a message naming none
// of the form's fields (or only a word that is not one) goes to the top.
func placedErrors(err error, fields ...string) (*formErrors, bool) {
	fe, ok := errorsOf(err)
	if !ok {
		return nil, false
	}
	for _, f := range fields {
		if _, hit := fe.Fields[f]; hit {
			return fe, true
		}
	}
	if fe.Form == "" {
		fe.Form = err.(*apiError).Message
	}
	fe.Fields = map[string]string{}
	return fe, true
}

// pagePath adds ?limit= and the request's ?cursor= to an API list path.
func pagePath(r *http.Request, path string, limit string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	path += sep + "limit=" + limit
	if c := r.URL.Query().Get("cursor"); c != "" {
		path += "&cursor=" + url.QueryEscape(c)
	}
	return path
}

// Connections.

// connectionItem is a connection as the list shows it: the provider
// settings exactly as the API answers them, secrets masked.
type connectionItem struct {
	connection
	Provider  map[string]any `json:"provider"`
	CreatedAt time.Time      `json:"createdAt"`
}

// Settings are the provider settings in name order, as text.
func (c connectionItem) Settings() [][2]string {
	out := make([][2]string, 0, len(c.Provider))
	for _, f := range sortedKeys(c.Provider) {
		out = append(out, [2]string{f, stringOf(c.Provider[f])})
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type connectionsPage struct {
	Connections []connectionItem
	Next        string
	Notice      *notice
	// Created is the id of the connection just created, to point it out.
	Created string
}

func (u *UI) connectionsData(r *http.Request, s *domain.Session) (*connectionsPage, error) {
	conns, next, err := listPage[connectionItem](u, r, s, pagePath(r, "/api/connections", "100"), "connections")
	if err != nil {
		return nil, err
	}
	return &connectionsPage{Connections: conns, Next: next}, nil
}

func (u *UI) listConnections(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	p, err := u.connectionsData(r, s)
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	p.Notice = doneNotice(r, map[string]string{
		"created": "Connection created. Give the provider its inbound URL.",
		"deleted": "Connection deleted.",
	})
	if p.Notice != nil && r.URL.Query().Get("done") == "created" {
		p.Created = r.URL.Query().Get("id")
	}
	u.render(w, r, s, http.StatusOK, "connections", p)
}

// connectionForm is what the create page shows. Provider settings are
// drawn from the chosen channel plugin's schema, so a new channel plugin
// needs no change here; secrets are never filled in again.
type connectionForm struct {
	Code     string
	Channel  string
	Sender   string
	Route    string
	Channels []pluginInfo
	Provider []schemaField
	Errors   *formErrors
}

// channels lists the installed plugins that serve a channel.
func (u *UI) channels(r *http.Request, s *domain.Session) ([]pluginInfo, error) {
	var plugins struct {
		Plugins []pluginInfo `json:"plugins"`
	}
	if err := u.call(r, s, "GET", "/api/plugins", nil, &plugins); err != nil {
		return nil, err
	}
	var out []pluginInfo
	for _, p := range plugins.Plugins {
		if p.Channel != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// channelSchema is the provider schema of the chosen channel, nil when no
// installed plugin serves it.
func (f *connectionForm) channelSchema() json.RawMessage {
	for _, p := range f.Channels {
		if strings.EqualFold(p.Channel, f.Channel) {
			return p.ConfigSchema
		}
	}
	return nil
}

func (u *UI) newConnection(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	chans, err := u.channels(r, s)
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	q := r.URL.Query()
	// The channel select reloads the page with what was typed, secrets aside.
	f := &connectionForm{Channel: strings.ToUpper(q.Get("channel")), Code: q.Get("code"), Sender: q.Get("sender"), Route: q.Get("route"), Channels: chans}
	if f.channelSchema() == nil && len(chans) > 0 {
		f.Channel = chans[0].Channel
	}
	f.Provider = schemaFields(f.channelSchema(), nil)
	u.render(w, r, s, http.StatusOK, "connections-form", f)
}

func (u *UI) createConnection(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	chans, err := u.channels(r, s)
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	f := &connectionForm{
		Code: strings.TrimSpace(r.PostFormValue("code")), Channel: r.PostFormValue("channel"),
		Sender: strings.TrimSpace(r.PostFormValue("sender")), Route: strings.TrimSpace(r.PostFormValue("route")), Channels: chans,
	}
	schema := f.channelSchema()
	req := map[string]any{"code": f.Code, "channel": f.Channel, "sender": f.Sender, "route": f.Route,
		"provider": schemaValues(schema, r.PostForm, "provider.")}
	var made connection
	err = u.call(r, s, "POST", "/api/connections", req, &made)
	if err != nil {
		fe, ok := placedErrors(err, "code", "channel", "sender", "route", "provider")
		if !ok {
			u.apiFail(w, r, s, err)
			return
		}
		status := formStatus(err)
		if ae := err.(*apiError); ae.Status == http.StatusConflict {
			// The only conflict is a taken code.
			fe = &formErrors{Fields: map[string]string{"code": ae.Message}}
		}
		// A message about one setting shows beside it, not also below all.
		for _, pf := range schemaFields(schema, nil) {
			if _, ok := fe.Fields["provider."+pf.Name]; ok {
				delete(fe.Fields, "provider")
			}
		}
		f.Errors = fe
		// What was typed comes back, except secrets.
		f.Provider = schemaFields(schema, formMap(schema, r.PostForm, "provider."))
		u.render(w, r, s, status, "connections-form", f)
		return
	}
	http.Redirect(w, r, "/connections?done=created&id="+url.QueryEscape(made.ID), http.StatusSeeOther)
}

func (u *UI) deleteConnection(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	err := u.call(r, s, "DELETE", "/api/connections/"+url.PathEscape(r.PathValue("id")), nil, nil)
	if n, status, ok := refusalNotice(err); ok {
		// In use by an active integration: say so above the list.
		p, lerr := u.connectionsData(r, s)
		if lerr != nil {
			u.apiFail(w, r, s, lerr)
			return
		}
		p.Notice = n
		u.render(w, r, s, status, "connections", p)
		return
	}
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/connections?done=deleted", http.StatusSeeOther)
}

// Campaigns and auto-replies.

type campaign struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	Status        string     `json:"status"`
	IntegrationID string     `json:"integrationId"`
	Senders       []string   `json:"senders"`
	IntegratedAt  *time.Time `json:"integratedAt"`
	CreatedAt     time.Time  `json:"createdAt"`
}

type autoReply struct {
	ID         string    `json:"id"`
	Connection string    `json:"connection"`
	Message    string    `json:"message"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"createdAt"`
}

// campaignForm and autoReplyForm keep what was typed after a refusal.
type campaignForm struct {
	Name          string
	Type          string
	IntegrationID string
	Senders       string
	Errors        *formErrors
}

type autoReplyForm struct {
	Connection string
	Message    string
	Active     bool
	Errors     *formErrors
}

type campaignsPage struct {
	Campaigns    []campaign
	Next         string
	AutoReplies  []autoReply
	MoreReplies  bool
	Integrations []integration
	Connections  []connection
	Campaign     campaignForm
	AutoReply    autoReplyForm
	Notice       *notice
}

// IntegrationName names a campaign's integration; "" when it has none,
// its id when it is gone.
func (p *campaignsPage) IntegrationName(id string) string {
	for _, in := range p.Integrations {
		if in.ID == id {
			return in.Name
		}
	}
	return id
}

// Types are the campaign types the API knows.
func (campaignsPage) Types() []string {
	return []string{domain.CampaignKeyword, domain.CampaignChatbot}
}

func (u *UI) campaignsData(r *http.Request, s *domain.Session) (*campaignsPage, error) {
	p := &campaignsPage{Campaign: campaignForm{Type: domain.CampaignKeyword}, AutoReply: autoReplyForm{Active: true}}
	var err error
	if p.Campaigns, p.Next, err = listPage[campaign](u, r, s, pagePath(r, "/api/campaigns", "100"), "campaigns"); err != nil {
		return nil, err
	}
	var more string
	if p.AutoReplies, more, err = listPage[autoReply](u, r, s, "/api/auto-replies?limit=500", "autoReplies"); err != nil {
		return nil, err
	}
	p.MoreReplies = more != ""
	if p.Integrations, _, err = listPage[integration](u, r, s, "/api/integrations?limit=500", "integrations"); err != nil {
		return nil, err
	}
	if p.Connections, _, err = listPage[connection](u, r, s, "/api/connections?limit=500", "connections"); err != nil {
		return nil, err
	}
	return p, nil
}

var campaignDone = map[string]string{
	"created":           "Campaign created as a draft.",
	"live":              "The campaign is live.",
	"pause":             "The campaign is paused.",
	"reply-created":     "Auto-reply created.",
	"reply-activated":   "The auto-reply is active.",
	"reply-deactivated": "The auto-reply is inactive.",
	"reply-deleted":     "Auto-reply deleted.",
}

func (u *UI) listCampaigns(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	p, err := u.campaignsData(r, s)
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	p.Notice = doneNotice(r, campaignDone)
	u.render(w, r, s, http.StatusOK, "campaigns", p)
}

// senderList splits what was typed into senders: commas, spaces or lines.
func senderList(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
	if out == nil {
		out = []string{}
	}
	return out
}

func (u *UI) createCampaign(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	f := campaignForm{Name: r.PostFormValue("name"), Type: r.PostFormValue("type"),
		IntegrationID: r.PostFormValue("integrationId"), Senders: r.PostFormValue("senders")}
	req := map[string]any{"name": f.Name, "type": f.Type, "senders": senderList(f.Senders)}
	if f.IntegrationID != "" {
		req["integrationId"] = f.IntegrationID
	}
	err := u.call(r, s, "POST", "/api/campaigns", req, nil)
	if err == nil {
		http.Redirect(w, r, "/campaigns?done=created", http.StatusSeeOther)
		return
	}
	fe, ok := placedErrors(err, "name", "type", "integrationId", "senders")
	if !ok {
		u.apiFail(w, r, s, err)
		return
	}
	if ae := err.(*apiError); ae.Status == http.StatusNotFound {
		fe = &formErrors{Fields: map[string]string{"integrationId": ae.Message}}
	}
	p, lerr := u.campaignsData(r, s)
	if lerr != nil {
		u.apiFail(w, r, s, lerr)
		return
	}
	f.Errors = fe
	p.Campaign = f
	u.render(w, r, s, formStatus(err), "campaigns", p)
}

// formStatus is the status of a page that shows a refused form again: the
// API's, except that an unknown object the form named (404) is a mistake
// in the form (422).
func formStatus(err error) int {
	if ae, ok := err.(*apiError); ok && ae.Status != http.StatusNotFound {
		return ae.Status
	}
	return http.StatusUnprocessableEntity
}

// setCampaign makes a campaign live or pauses it; a refusal (409: a sender
// is held elsewhere, its integration is not fit) is a notice on the list.
func (u *UI) setCampaign(action string) handler {
	return func(w http.ResponseWriter, r *http.Request, s *domain.Session) {
		err := u.call(r, s, "POST", "/api/campaigns/"+url.PathEscape(r.PathValue("id"))+"/"+action, nil, nil)
		if n, status, ok := refusalNotice(err); ok {
			p, lerr := u.campaignsData(r, s)
			if lerr != nil {
				u.apiFail(w, r, s, lerr)
				return
			}
			p.Notice = n
			u.render(w, r, s, status, "campaigns", p)
			return
		}
		if err != nil {
			u.apiFail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/campaigns?done="+action, http.StatusSeeOther)
	}
}

func (u *UI) createAutoReply(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	f := autoReplyForm{Connection: r.PostFormValue("connection"), Message: formText(r, "message"), Active: r.PostFormValue("active") != ""}
	err := u.call(r, s, "POST", "/api/auto-replies", map[string]any{"connection": f.Connection, "message": f.Message, "active": f.Active}, nil)
	if err == nil {
		http.Redirect(w, r, "/campaigns?done=reply-created#auto-replies", http.StatusSeeOther)
		return
	}
	fe, ok := placedErrors(err, "connection", "message", "active")
	if !ok {
		u.apiFail(w, r, s, err)
		return
	}
	if ae := err.(*apiError); ae.Status == http.StatusNotFound {
		fe = &formErrors{Fields: map[string]string{"connection": ae.Message}}
	}
	p, lerr := u.campaignsData(r, s)
	if lerr != nil {
		u.apiFail(w, r, s, lerr)
		return
	}
	f.Errors = fe
	p.AutoReply = f
	u.render(w, r, s, formStatus(err), "campaigns", p)
}

func (u *UI) setAutoReplyActive(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	active := r.PostFormValue("active") == "true"
	err := u.call(r, s, "PATCH", "/api/auto-replies/"+url.PathEscape(r.PathValue("id")), map[string]any{"active": active}, nil)
	if n, status, ok := refusalNotice(err); ok {
		p, lerr := u.campaignsData(r, s)
		if lerr != nil {
			u.apiFail(w, r, s, lerr)
			return
		}
		p.Notice = n
		u.render(w, r, s, status, "campaigns", p)
		return
	}
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	done := "reply-deactivated"
	if active {
		done = "reply-activated"
	}
	http.Redirect(w, r, "/campaigns?done="+done+"#auto-replies", http.StatusSeeOther)
}

func (u *UI) deleteAutoReply(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	if err := u.call(r, s, "DELETE", "/api/auto-replies/"+url.PathEscape(r.PathValue("id")), nil, nil); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/campaigns?done=reply-deleted#auto-replies", http.StatusSeeOther)
}

// Teams.

type team struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

type teamsPage struct {
	Teams  []team
	Next   string
	Name   string
	Errors *formErrors
	Notice *notice
}

func (u *UI) teamsData(r *http.Request, s *domain.Session) (*teamsPage, error) {
	teams, next, err := listPage[team](u, r, s, pagePath(r, "/api/teams", "100"), "teams")
	if err != nil {
		return nil, err
	}
	return &teamsPage{Teams: teams, Next: next}, nil
}

func (u *UI) listTeams(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	p, err := u.teamsData(r, s)
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	p.Notice = doneNotice(r, map[string]string{"created": "Team created."})
	u.render(w, r, s, http.StatusOK, "teams", p)
}

func (u *UI) createTeam(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	name := r.PostFormValue("name")
	err := u.call(r, s, "POST", "/api/teams", map[string]any{"name": name}, nil)
	if err == nil {
		http.Redirect(w, r, "/teams?done=created", http.StatusSeeOther)
		return
	}
	fe, ok := placedErrors(err, "name")
	if !ok {
		u.apiFail(w, r, s, err)
		return
	}
	p, lerr := u.teamsData(r, s)
	if lerr != nil {
		u.apiFail(w, r, s, lerr)
		return
	}
	p.Name, p.Errors = name, fe
	u.render(w, r, s, formStatus(err), "teams", p)
}

// Admin tokens.

type adminToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	// Token is set only in the answer that creates it.
	Token string `json:"token"`
}

type tokensPage struct {
	Tokens  []adminToken
	Next    string
	Name    string
	Errors  *formErrors
	Notice  *notice
	Created *adminToken
}

func (u *UI) tokensData(r *http.Request, s *domain.Session) (*tokensPage, error) {
	tokens, next, err := listPage[adminToken](u, r, s, pagePath(r, "/api/tokens", "100"), "tokens")
	if err != nil {
		return nil, err
	}
	return &tokensPage{Tokens: tokens, Next: next}, nil
}

func (u *UI) listTokens(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	p, err := u.tokensData(r, s)
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	p.Notice = doneNotice(r, map[string]string{"revoked": "Token revoked. It stopped working at once."})
	u.render(w, r, s, http.StatusOK, "tokens", p)
}

// createToken makes a token and shows it on this answer only.
func (u *UI) createToken(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	name := r.PostFormValue("name")
	var made adminToken
	err := u.call(r, s, "POST", "/api/tokens", map[string]any{"name": name}, &made)
	if err != nil {
		fe, ok := placedErrors(err, "name")
		if !ok {
			u.apiFail(w, r, s, err)
			return
		}
		p, lerr := u.tokensData(r, s)
		if lerr != nil {
			u.apiFail(w, r, s, lerr)
			return
		}
		p.Name, p.Errors = name, fe
		u.render(w, r, s, formStatus(err), "tokens", p)
		return
	}
	p, err := u.tokensData(r, s)
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	p.Created = &made
	u.render(w, r, s, http.StatusCreated, "tokens", p)
}

func (u *UI) revokeToken(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	if err := u.call(r, s, "DELETE", "/api/tokens/"+url.PathEscape(r.PathValue("id")), nil, nil); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/tokens?done=revoked", http.StatusSeeOther)
}

// Users.

type user struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
}

type usersPage struct {
	Users  []user
	Next   string
	Email  string
	Role   string
	Errors *formErrors
	Notice *notice
}

// Roles are the roles a user may have, with what each may do.
func (usersPage) Roles() [][2]string {
	return [][2]string{
		{domain.RoleAgent, "agent: sees and answers conversations"},
		{domain.RoleAdmin, "admin: also configures the workspace"},
		{domain.RoleOwner, "owner: also manages users and makes admin tokens"},
	}
}

func (u *UI) usersData(r *http.Request, s *domain.Session) (*usersPage, error) {
	users, next, err := listPage[user](u, r, s, pagePath(r, "/api/users", "100"), "users")
	if err != nil {
		return nil, err
	}
	return &usersPage{Users: users, Next: next, Role: domain.RoleAgent}, nil
}

func (u *UI) listUsers(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	p, err := u.usersData(r, s)
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	p.Notice = doneNotice(r, map[string]string{
		"created": "User created. They can log in now.",
		"deleted": "User removed. Their sessions have ended.",
	})
	u.render(w, r, s, http.StatusOK, "users", p)
}

// createUser adds a login; the password is never shown again, not even
// after a refusal.
func (u *UI) createUser(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	email, role := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("role")
	err := u.call(r, s, "POST", "/api/users", map[string]any{"email": email, "password": r.PostFormValue("password"), "role": role}, nil)
	if err == nil {
		http.Redirect(w, r, "/users?done=created", http.StatusSeeOther)
		return
	}
	fe, ok := placedErrors(err, "email", "password", "role")
	if !ok {
		u.apiFail(w, r, s, err)
		return
	}
	if ae := err.(*apiError); ae.Status == http.StatusConflict {
		// The only conflict is a taken email.
		fe = &formErrors{Fields: map[string]string{"email": ae.Message}}
	}
	p, lerr := u.usersData(r, s)
	if lerr != nil {
		u.apiFail(w, r, s, lerr)
		return
	}
	p.Email, p.Role, p.Errors = email, role, fe
	u.render(w, r, s, formStatus(err), "users", p)
}

// deleteUser removes a user; the last owner, and oneself, are refused with
// a notice.
func (u *UI) deleteUser(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	err := u.call(r, s, "DELETE", "/api/users/"+url.PathEscape(r.PathValue("id")), nil, nil)
	if n, status, ok := refusalNotice(err); ok {
		p, lerr := u.usersData(r, s)
		if lerr != nil {
			u.apiFail(w, r, s, lerr)
			return
		}
		p.Notice = n
		u.render(w, r, s, status, "users", p)
		return
	}
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/users?done=deleted", http.StatusSeeOther)
}
