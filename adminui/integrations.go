package adminui

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core/delivery"
	"github.com/switchboardhq/switchboard/core/domain"
)

// integration is the admin API's view of an integration.
type integration struct {
	ID               string          `json:"id"`
	Name             string          `json:"name"`
	Kind             string          `json:"kind"`
	Status           string          `json:"status"`
	InboundURL       string          `json:"inboundUrl"`
	OutboundURL      string          `json:"outboundUrl"`
	Delivery         json.RawMessage `json:"delivery"`
	DeliveryDisabled bool            `json:"deliveryDisabled"`
	CreatedAt        time.Time       `json:"createdAt"`
	APIKey           string          `json:"apiKey"`
	ResponseToken    string          `json:"responseToken"`
	Connections      []connState     `json:"connections"`
}

// webchatKind is the website chat's kind: the hub serves the widget and
// the demo page of its integrations under /webchat/{id}.
const webchatKind = "webchat"

// webchatEmbed is how a website chat is put on a website.
type webchatEmbed struct {
	// Demo is the hub's page with nothing but the widget on it; Script the
	// widget's; Snippet the line a website's pages add.
	Demo, Script, Snippet string
	Active                bool
}

// Webchat is how the integration's chat is embedded, built from the hub's
// public URL; nil unless it is a website chat.
func (in integration) Webchat() *webchatEmbed {
	if in.Kind != webchatKind {
		return nil
	}
	demo := responseBase(in) + "/webchat/" + url.PathEscape(in.ID)
	script := demo + "/widget.js"
	return &webchatEmbed{Demo: demo, Script: script, Active: in.Status == domain.StatusActive,
		Snippet: `<script src="` + html.EscapeString(script) + `" async></script>`}
}

type connState struct {
	Code    string `json:"code"`
	Channel string `json:"channel"`
	Sender  string `json:"sender"`
	Status  string `json:"status"`
	Error   string `json:"error"`
}

// partial reports whether some listed connection is not active.
func (in integration) Partial() bool {
	for _, c := range in.Connections {
		if c.Status != domain.ConnectionActive {
			return true
		}
	}
	return false
}

type pluginInfo struct {
	Name         string          `json:"name"`
	Kind         string          `json:"kind"`
	Version      string          `json:"version"`
	DisplayName  string          `json:"displayName"`
	Channel      string          `json:"channel"`
	State        string          `json:"state"`
	Restarts     int             `json:"restarts"`
	Error        string          `json:"error"`
	ConfigSchema json.RawMessage `json:"configSchema"`
}

type connection struct {
	ID         string `json:"id"`
	Code       string `json:"code"`
	Channel    string `json:"channel"`
	Sender     string `json:"sender"`
	Route      string `json:"route"`
	InboundURL string `json:"inboundUrl"`
}

func (u *UI) integrationRoutes() {
	u.mux.Handle("GET /integrations", u.page(staff, u.listIntegrations))
	u.mux.Handle("GET /integrations/new", u.page(staff, u.newIntegration))
	u.mux.Handle("POST /integrations", u.page(staff, u.createIntegration))
	u.mux.Handle("GET /integrations/{id}", u.page(staff, u.showIntegration))
	u.mux.Handle("GET /integrations/{id}/edit", u.page(staff, u.editIntegration))
	u.mux.Handle("POST /integrations/{id}", u.page(staff, u.updateIntegration))
	u.mux.Handle("POST /integrations/{id}/start", u.page(staff, u.startIntegration))
	u.mux.Handle("POST /integrations/{id}/stop", u.page(staff, u.stopIntegration))
	u.mux.Handle("POST /integrations/{id}/delete", u.page(staff, u.deleteIntegration))
	u.mux.Handle("POST /integrations/{id}/regenerate-key", u.page(staff, u.regenerate("regenerate-key", "apiKey", "Inbound API key")))
	u.mux.Handle("POST /integrations/{id}/regenerate-response-token", u.page(staff, u.regenerate("regenerate-response-token", "responseToken", "Response API token")))
	u.mux.Handle("POST /integrations/{id}/signing-secret", u.page(staff, u.signingSecret("GET", "signing-secret")))
	u.mux.Handle("POST /integrations/{id}/signing-secret/rotate", u.page(staff, u.signingSecret("POST", "signing-secret/rotate")))
}

func (u *UI) home(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	if staff(s.User.Role) {
		http.Redirect(w, r, "/integrations", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/conversations", http.StatusSeeOther)
}

func (u *UI) listIntegrations(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	var list struct {
		Integrations []integration `json:"integrations"`
		NextCursor   string        `json:"nextCursor"`
	}
	path := "/api/integrations?limit=100"
	if c := r.URL.Query().Get("cursor"); c != "" {
		path += "&cursor=" + url.QueryEscape(c)
	}
	if err := u.call(r, s, "GET", path, nil, &list); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	notice := map[string]string{}
	switch r.URL.Query().Get("done") {
	case "started":
		notice["Text"] = "Started."
	case "partial":
		notice["Text"] = "Started, but not every connection could be activated."
		notice["Dialog"] = "connections-" + r.URL.Query().Get("id")
	case "stopped":
		notice["Text"] = "Stopped."
	case "deleted":
		notice["Text"] = "Deleted."
	}
	u.render(w, r, s, http.StatusOK, "integrations", map[string]any{"Integrations": list.Integrations, "Next": list.NextCursor, "Notice": notice})
}

// integrationForm is what the create and edit pages show.
type integrationForm struct {
	Editing     bool
	ID          string
	Name        string
	Kind        string
	Kinds       []pluginInfo
	Connections []connection
	Chosen      map[string]bool
	Delivery    deliveryForm
	Config      []schemaField
	Errors      *formErrors
}

// SettingsError is a refusal of the settings as a whole, shown below them:
// one about a setting shows beside it instead.
func (f *integrationForm) SettingsError() string {
	if f.Errors == nil {
		return ""
	}
	for _, c := range f.Config {
		if _, ok := f.Errors.Fields["config."+c.Name]; ok {
			return ""
		}
	}
	return f.Errors.Fields["config"]
}

func (u *UI) formData(r *http.Request, s *domain.Session, f *integrationForm, config map[string]any) error {
	var plugins struct {
		Plugins []pluginInfo `json:"plugins"`
	}
	if err := u.call(r, s, "GET", "/api/plugins", nil, &plugins); err != nil {
		return err
	}
	for _, p := range plugins.Plugins {
		if p.Kind != "" && p.Channel == "" {
			f.Kinds = append(f.Kinds, p)
			if p.Kind == f.Kind {
				f.Config = schemaFields(p.ConfigSchema, config)
			}
		}
	}
	var conns struct {
		Connections []connection `json:"connections"`
	}
	if err := u.call(r, s, "GET", "/api/connections?limit=500", nil, &conns); err != nil {
		return err
	}
	f.Connections = conns.Connections
	return nil
}

func (u *UI) newIntegration(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		kind = "custom"
	}
	f := &integrationForm{Kind: kind, Chosen: map[string]bool{}, Delivery: deliveryForm{Method: "POST", DefaultBody: true, Auth: delivery.Auth{Type: "none"}}}
	if err := u.formData(r, s, f, nil); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	u.render(w, r, s, http.StatusOK, "integrations-form", f)
}

func (u *UI) createIntegration(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	f := &integrationForm{Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"), Chosen: map[string]bool{}}
	for _, c := range r.PostForm["connections"] {
		f.Chosen[c] = true
	}
	f.Delivery = deliveryFromForm(r.PostForm)
	if err := u.formData(r, s, f, nil); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	req := map[string]any{"name": f.Name, "kind": f.Kind, "connections": r.PostForm["connections"]}
	if req["connections"] == nil {
		req["connections"] = []string{}
	}
	if d := f.Delivery.target(); d != nil {
		req["delivery"] = d
	}
	schema := u.kindSchema(f)
	req["config"] = schemaValues(schema, r.PostForm, "config.")
	var in integration
	if err := u.call(r, s, "POST", "/api/integrations", req, &in); err != nil {
		if fe, ok := errorsOf(err); ok {
			f.Errors = fe
			f.Config = schemaFields(schema, formMap(schema, r.PostForm, "config."))
			u.render(w, r, s, http.StatusUnprocessableEntity, "integrations-form", f)
			return
		}
		u.apiFail(w, r, s, err)
		return
	}
	// The keys are in this answer only: show them now, never again.
	u.render(w, r, s, http.StatusCreated, "integrations-created", in)
}

func (u *UI) kindSchema(f *integrationForm) json.RawMessage {
	for _, k := range f.Kinds {
		if k.Kind == f.Kind {
			return k.ConfigSchema
		}
	}
	return nil
}

func (u *UI) getIntegration(r *http.Request, s *domain.Session, id string) (integration, error) {
	var in integration
	err := u.call(r, s, "GET", "/api/integrations/"+url.PathEscape(id), nil, &in)
	return in, err
}

func (u *UI) showIntegration(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	u.renderIntegration(w, r, s, r.PathValue("id"), map[string]any{"Notice": r.URL.Query().Get("done")})
}

// campaign is a campaign linked to an integration.
type linkedCampaign struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	IntegratedAt time.Time `json:"integratedAt"`
}

// renderIntegration shows an integration's page with data's extras: a
// notice, a secret just made, the signing secret asked for.
func (u *UI) renderIntegration(w http.ResponseWriter, r *http.Request, s *domain.Session, id string, data map[string]any) {
	in, err := u.getIntegration(r, s, id)
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	var camps struct {
		Campaigns []linkedCampaign `json:"campaigns"`
	}
	if err := u.call(r, s, "GET", "/api/integrations/"+url.PathEscape(id)+"/campaigns?limit=100", nil, &camps); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	data["Integration"], data["Campaigns"] = in, camps.Campaigns
	u.render(w, r, s, http.StatusOK, "integrations-show", data)
}

// signingSecret shows the secret deliveries are signed with, or makes a
// new one. It is asked for with a form, never a link, so no prefetch or
// history shows it.
func (u *UI) signingSecret(method, action string) handler {
	return func(w http.ResponseWriter, r *http.Request, s *domain.Session) {
		id := r.PathValue("id")
		var out struct {
			Secret string `json:"secret"`
		}
		if err := u.call(r, s, method, "/api/integrations/"+url.PathEscape(id)+"/"+action, nil, &out); err != nil {
			u.apiFail(w, r, s, err)
			return
		}
		u.renderIntegration(w, r, s, id, map[string]any{"Signing": out.Secret, "Rotated": method == "POST"})
	}
}

func (u *UI) editIntegration(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	in, err := u.getIntegration(r, s, r.PathValue("id"))
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	f := &integrationForm{Editing: true, ID: in.ID, Name: in.Name, Kind: in.Kind, Chosen: map[string]bool{}, Delivery: deliveryFromJSON(in.Delivery)}
	for _, c := range in.Connections {
		f.Chosen[c.Code] = true
	}
	if err := u.formData(r, s, f, nil); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	u.render(w, r, s, http.StatusOK, "integrations-form", f)
}

func (u *UI) updateIntegration(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	id := r.PathValue("id")
	f := &integrationForm{Editing: true, ID: id, Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"), Chosen: map[string]bool{}}
	conns := r.PostForm["connections"]
	if conns == nil {
		conns = []string{}
	}
	for _, c := range conns {
		f.Chosen[c] = true
	}
	f.Delivery = deliveryFromForm(r.PostForm)
	if err := u.formData(r, s, f, nil); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	req := map[string]any{"name": f.Name, "connections": conns}
	if d := f.Delivery.target(); d != nil {
		req["delivery"] = d
	} else {
		req["delivery"] = nil
	}
	schema := u.kindSchema(f)
	if cfg := schemaValues(schema, r.PostForm, "config."); len(cfg) > 0 {
		req["config"] = cfg
	}
	if err := u.call(r, s, "PATCH", "/api/integrations/"+url.PathEscape(id), req, nil); err != nil {
		if fe, ok := errorsOf(err); ok {
			f.Errors = fe
			f.Config = schemaFields(schema, formMap(schema, r.PostForm, "config."))
			u.render(w, r, s, http.StatusUnprocessableEntity, "integrations-form", f)
			return
		}
		u.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/integrations/"+url.PathEscape(id)+"?done=saved", http.StatusSeeOther)
}

// startIntegration starts an integration; when some connection could not
// be activated the list opens with a notice whose link shows each one.
func (u *UI) startIntegration(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	id := r.PathValue("id")
	var in integration
	err := u.call(r, s, "POST", "/api/integrations/"+url.PathEscape(id)+"/start", nil, &in)
	if ae, ok := err.(*apiError); ok && ae.Status == http.StatusConflict {
		u.render(w, r, s, http.StatusConflict, "error", map[string]any{"Status": ae.Status, "Message": ae.Message})
		return
	}
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	done := "started"
	if in.Partial() {
		done = "partial"
	}
	http.Redirect(w, r, "/integrations?done="+done+"&id="+url.QueryEscape(id), http.StatusSeeOther)
}

func (u *UI) stopIntegration(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	id := r.PathValue("id")
	if err := u.call(r, s, "POST", "/api/integrations/"+url.PathEscape(id)+"/stop", nil, nil); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/integrations?done=stopped&id="+url.QueryEscape(id), http.StatusSeeOther)
}

func (u *UI) deleteIntegration(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	if err := u.call(r, s, "DELETE", "/api/integrations/"+url.PathEscape(r.PathValue("id")), nil, nil); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/integrations?done=deleted", http.StatusSeeOther)
}

// regenerate makes a new key or token and shows it once.
func (u *UI) regenerate(action, field, label string) handler {
	return func(w http.ResponseWriter, r *http.Request, s *domain.Session) {
		id := r.PathValue("id")
		var out map[string]string
		if err := u.call(r, s, "POST", "/api/integrations/"+url.PathEscape(id)+"/"+action, nil, &out); err != nil {
			u.apiFail(w, r, s, err)
			return
		}
		u.renderIntegration(w, r, s, id, map[string]any{"Secret": map[string]string{"Name": field, "Label": label, "Value": out[field]}})
	}
}

// apiFail shows an API refusal as a page: its status and message; any
// other error as an internal one.
func (u *UI) apiFail(w http.ResponseWriter, r *http.Request, s *domain.Session, err error) {
	if ae, ok := err.(*apiError); ok && ae.Status < 500 {
		u.renderError(w, r, s, ae.Status, ae.Message)
		return
	}
	u.fail(w, r, s, err)
}

// deliveryForm is a delivery target as the form edits it.
type deliveryForm struct {
	Enabled     bool
	Method      string
	URL         string
	Params      []delivery.Field
	Headers     []delivery.Field
	Body        []delivery.Field
	DefaultBody bool
	Auth        delivery.Auth
	Transform   string
	VerifyToken string
}

// Variables are the names a variable row may choose.
func (deliveryForm) Variables() []string { return delivery.Variables }

// Methods are the methods a target may use.
func (deliveryForm) Methods() []string { return []string{"GET", "POST", "PUT", "DELETE"} }

func deliveryFromJSON(raw json.RawMessage) deliveryForm {
	var t delivery.Target
	f := deliveryForm{Method: "POST", DefaultBody: true, Auth: delivery.Auth{Type: "none"}}
	if len(raw) == 0 || json.Unmarshal(raw, &t) != nil {
		return f
	}
	f.Enabled, f.Method, f.URL = true, t.Method, t.URL
	f.Params, f.Headers, f.Body = t.Params, t.Headers, t.Body
	f.DefaultBody = t.Body == nil
	if t.Auth != nil {
		f.Auth = *t.Auth
	}
	f.Transform, f.VerifyToken = t.Transform, t.VerifyToken
	return f
}

func deliveryFromForm(form url.Values) deliveryForm {
	f := deliveryForm{
		Method:      form.Get("delivery.method"),
		URL:         strings.TrimSpace(form.Get("delivery.url")),
		Params:      rowsFromForm(form, "params"),
		Headers:     rowsFromForm(form, "headers"),
		Body:        rowsFromForm(form, "body"),
		DefaultBody: form.Get("body.default") != "",
		Auth: delivery.Auth{Type: form.Get("auth.type"), Header: form.Get("auth.header"), Value: form.Get("auth.value"),
			Username: form.Get("auth.username"), Password: form.Get("auth.password"), Token: form.Get("auth.token")},
		Transform:   form.Get("delivery.transform"),
		VerifyToken: form.Get("delivery.verifyToken"),
	}
	f.Enabled = f.URL != ""
	if f.Auth.Type == "" {
		f.Auth.Type = "none"
	}
	return f
}

// rowsFromForm reads a tab's rows: inputs named NAME.key, NAME.type and
// NAME.value, repeated in order; rows with nothing in them are dropped.
func rowsFromForm(form url.Values, name string) []delivery.Field {
	keys, types, values := form[name+".key"], form[name+".type"], form[name+".value"]
	var out []delivery.Field
	for i := range keys {
		f := delivery.Field{Key: strings.TrimSpace(keys[i]), Type: "text"}
		if i < len(types) {
			f.Type = types[i]
		}
		if i < len(values) {
			f.Value = values[i]
		}
		if f.Key == "" && f.Value == "" {
			continue
		}
		out = append(out, f)
	}
	return out
}

// target is the delivery to send to the API, nil when there is none.
func (f deliveryForm) target() map[string]any {
	if !f.Enabled {
		return nil
	}
	t := map[string]any{"method": f.Method, "url": f.URL}
	if len(f.Params) > 0 {
		t["params"] = f.Params
	}
	if len(f.Headers) > 0 {
		t["headers"] = f.Headers
	}
	if !f.DefaultBody {
		body := f.Body
		if body == nil {
			body = []delivery.Field{}
		}
		t["body"] = body
	}
	a := map[string]any{"type": f.Auth.Type}
	switch f.Auth.Type {
	case "apiKey":
		a["header"], a["value"] = f.Auth.Header, f.Auth.Value
	case "basic":
		a["username"], a["password"] = f.Auth.Username, f.Auth.Password
	case "bearer":
		a["token"] = f.Auth.Token
	}
	if f.Auth.Type != "none" && f.Auth.Type != "" {
		t["auth"] = a
	}
	if f.Transform != "" {
		t["transform"] = f.Transform
	}
	if f.VerifyToken != "" {
		t["verifyToken"] = f.VerifyToken
	}
	return t
}
