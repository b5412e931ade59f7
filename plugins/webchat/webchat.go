package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Version of the plugin, reported to the hub.
const Version = "0.1.0"

// Limits on what a visitor sends. The hub bounds the whole body separately.
const (
	// MaxContent bounds a message's text, in bytes.
	MaxContent = 4 << 10
	// Visitor ids are what the widget makes: 32 random bytes in base64url
	// (43 characters). Anything from 128 bits (22 characters) to 64
	// characters of that alphabet is taken; nothing else, so an id cannot
	// be a name, a number or anything else another person could guess.
	minVisitorID = 22
	maxVisitorID = 64
	// Message ids: the widget makes 16 random bytes (22 characters).
	minMessageID = 8
	maxMessageID = 64
	maxName      = 100
	maxEmail     = 254
	maxTitle     = 80
	maxGreeting  = 500
)

// Per-visitor rate limit: a token bucket.
const (
	visitorRate     = 5.0 // messages per second
	visitorBurst    = 10
	maxVisitorsSeen = 10_000
	// replayAge tells a request the hub kept while the plugin was down, and
	// hands over now, from a live one: it was received this long ago or
	// more. The hub answered it 202 already; it is never rate limited.
	replayAge = 10 * time.Second
)

//go:embed widget.js
var widgetJS []byte

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Parse(pageHTML))

// settingsLine is the line of widget.js that the integration's settings replace.
var settingsLine = []byte("var settings = {};")

// Webchat is the website chat: it serves the widget and its demo page, and
// checks and normalises what visitors post. Visitors hold no key (the kind
// is public): the visitor id the widget makes names the visitor's
// conversation, and the plugin takes only ids that cannot be guessed.
type Webchat struct {
	limiter *limiter
}

var (
	_ sdk.Channel       = (*Webchat)(nil)
	_ sdk.ConfigChecker = (*Webchat)(nil)
)

// New returns the plugin.
func New() *Webchat {
	return &Webchat{limiter: newLimiter(visitorRate, visitorBurst, maxVisitorsSeen, time.Now)}
}

const configSchema = `{
  "type": "object",
  "properties": {
    "title": {"type": "string", "maxLength": 80, "description": "shown on the widget's button and header"},
    "greeting": {"type": "string", "maxLength": 500, "description": "shown to the visitor above the messages"},
    "allowedOrigins": {
      "type": "array", "maxItems": 50,
      "items": {"type": "string", "pattern": "^https?://[^/?#]+$"},
      "description": "websites (scheme://host[:port]) whose pages may post messages; any when empty"
    }
  },
  "additionalProperties": false
}`

// Info declares the plugin.
func (*Webchat) Info() sdk.Info {
	return sdk.Info{
		Kind:         "webchat",
		Version:      Version,
		DisplayName:  "Website chat",
		Auth:         sdk.AuthPublic,
		ConfigSchema: configSchema,
	}
}

// config is an integration's settings.
type config struct {
	Title          string   `json:"title"`
	Greeting       string   `json:"greeting"`
	AllowedOrigins []string `json:"allowedOrigins"`
}

func parseConfig(raw json.RawMessage) (config, error) {
	var c config
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, sdk.BadConfig("the settings are not the webchat plugin's: %v", err)
	}
	if utf8.RuneCountInString(c.Title) > maxTitle {
		return c, sdk.BadSetting("title", "title is longer than %d characters", maxTitle)
	}
	if utf8.RuneCountInString(c.Greeting) > maxGreeting {
		return c, sdk.BadSetting("greeting", "greeting is longer than %d characters", maxGreeting)
	}
	for i, o := range c.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return c, sdk.BadSetting(fmt.Sprintf("allowedOrigins[%d]", i), "not an origin such as https://www.example.com")
		}
	}
	return c, nil
}

// CheckConfig checks an integration's settings when an admin saves them.
func (*Webchat) CheckConfig(_ context.Context, raw json.RawMessage) error {
	_, err := parseConfig(raw)
	return err
}

// HandleInbound serves the widget and its page (GET), and takes a visitor's
// message (POST).
func (w *Webchat) HandleInbound(_ context.Context, req *sdk.InboundRequest) (*sdk.InboundResult, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, err
	}
	rest := pathAfter(req.URL, req.IntegrationID)
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		switch rest {
		case "", "/":
			return w.page(req, cfg)
		case "/widget.js":
			return reply(http.StatusOK, "text/javascript; charset=utf-8", widget(cfg)), nil
		}
		return reply(http.StatusNotFound, "application/json", errorBody("not_found", "no such file")), nil
	case http.MethodPost:
		if rest != "" && rest != "/messages" {
			return reply(http.StatusNotFound, "application/json", errorBody("not_found", "post messages to /messages")), nil
		}
		return w.message(req, cfg)
	}
	return nil, sdk.Reject(sdk.ReasonUnsupported, "method %s is not supported", sdk.Quote(req.Method))
}

// Send is not how replies reach visitors: the hub streams them to the widget.
func (*Webchat) Send(context.Context, *sdk.SendRequest) (*sdk.SendResult, error) {
	return nil, &sdk.ProviderError{Message: "the website chat's replies are streamed by the hub, not sent by the plugin"}
}

// pathAfter is the part of a URL's path after the integration's id:
// "/widget.js" for …/webchat/ID/widget.js, "" for …/webchat/ID.
func pathAfter(raw, integrationID string) string {
	u, err := url.Parse(raw)
	if err != nil || integrationID == "" {
		return ""
	}
	seg := "/" + integrationID
	i := strings.LastIndex(u.Path, seg)
	if i < 0 {
		return ""
	}
	rest := u.Path[i+len(seg):]
	if rest != "" && rest[0] != '/' {
		return ""
	}
	return rest
}

// widget is the widget's script with the integration's settings in it.
func widget(cfg config) []byte {
	s, err := json.Marshal(map[string]string{"title": cfg.Title, "greeting": cfg.Greeting})
	if err != nil {
		return widgetJS
	}
	// json.Marshal escapes <, > and &, and the line separators JavaScript
	// strings cannot hold: the settings are a plain object literal.
	return bytes.Replace(widgetJS, settingsLine, append(append([]byte("var settings = "), s...), ';'), 1)
}

// page is the demo page: the widget, embedded as a website would.
func (w *Webchat) page(req *sdk.InboundRequest, cfg config) (*sdk.InboundResult, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return reply(http.StatusNotFound, "application/json", errorBody("not_found", "no such page")), nil
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(u.Path, "/webchat/"+req.IntegrationID) || strings.HasSuffix(u.Path, "/api/webhooks/webchat/"+req.IntegrationID) {
		// Only the hub's public route serves the page (not the generic
		// webhook path, under which the widget's script is not served).
		return reply(http.StatusNotFound, "application/json", errorBody("not_found", "the chat's page is at /webchat/"+req.IntegrationID)), nil
	}
	u.Path += "/widget.js"
	title := cfg.Title
	if title == "" {
		title = "Chat with us"
	}
	script := u.String()
	var b bytes.Buffer
	err = page.Execute(&b, map[string]string{
		"Title":     title,
		"ScriptURL": script,
		"Snippet":   `<script src="` + script + `" async></script>`,
	})
	if err != nil {
		return nil, fmt.Errorf("webchat: render page: %w", err)
	}
	return reply(http.StatusOK, "text/html; charset=utf-8", b.Bytes()), nil
}

// visitorMessage is what the widget posts.
type visitorMessage struct {
	VisitorID *string `json:"visitorId"`
	MessageID *string `json:"messageId"`
	Content   *string `json:"content"`
	Name      string  `json:"name"`
	Email     string  `json:"email"`
}

// message checks a visitor's message and normalises it: the visitor id
// names the conversation and the contact.
func (w *Webchat) message(req *sdk.InboundRequest, cfg config) (*sdk.InboundResult, error) {
	if len(cfg.AllowedOrigins) > 0 && !allowedOrigin(req.Header.Get("Origin"), cfg.AllowedOrigins) && !hubOrigin(req.Header.Get("Origin"), req.URL) {
		return nil, sdk.Reject(sdk.ReasonBadSignature, "messages are taken from this integration's allowed websites only, and origin %s is not one",
			sdk.Quote(req.Header.Get("Origin")))
	}
	p, err := decode(req.Body)
	if err != nil {
		return nil, err
	}
	visitor, err := key("visitorId", p.VisitorID, minVisitorID, maxVisitorID)
	if err != nil {
		return nil, err
	}
	if w.limiter.now().Sub(req.ReceivedAt) < replayAge && !w.limiter.allow(visitor) {
		// Not logged: a flood must not grow the event log. The widget
		// shows the message and the visitor sends again.
		return reply(http.StatusTooManyRequests, "application/json",
			errorBody("rate_limited", "you are sending messages too fast; wait a moment and send again")), nil
	}
	msgID, err := key("messageId", p.MessageID, minMessageID, maxMessageID)
	if err != nil {
		return nil, err
	}
	if p.Content == nil || strings.TrimSpace(*p.Content) == "" {
		return nil, sdk.InvalidField("content", "content is required")
	}
	if len(*p.Content) > MaxContent {
		return nil, sdk.InvalidField("content", "content is longer than 4 KiB (%d bytes): send a shorter message", MaxContent)
	}
	name := strings.TrimSpace(p.Name)
	if utf8.RuneCountInString(name) > maxName {
		return nil, sdk.InvalidField("name", "name is longer than %d characters", maxName)
	}
	email := strings.TrimSpace(p.Email)
	if email != "" {
		addr, perr := mail.ParseAddress(email)
		if perr != nil || addr.Address != email || len(email) > maxEmail {
			return nil, sdk.InvalidField("email", "email %s is not an email address", sdk.Quote(email))
		}
	}
	subject := cfg.Title
	if subject == "" {
		subject = "Website chat"
	}
	return &sdk.InboundResult{Messages: []sdk.InboundMessage{{
		// Scoped to the visitor: another visitor cannot take the id.
		ExternalID:       visitor + ":" + msgID,
		ThreadExternalID: visitor,
		From:             sdk.Contact{ExternalID: visitor, Name: name, Email: email},
		Content:          *p.Content,
		ContentType:      "text",
		Subject:          subject,
		SentAt:           req.ReceivedAt,
		Event:            sdk.EventMessage,
	}}}, nil
}

func decode(body []byte) (*visitorMessage, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, sdk.InvalidField("body", "body must be a JSON object")
	}
	// Decoding would pass \u0000 on and replace invalid UTF-8 silently.
	if err := sdk.CheckJSONText(body); err != nil {
		return nil, err
	}
	var p visitorMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return nil, sdk.InvalidField(typeErr.Field, "%s must be a string", typeErr.Field)
		}
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, sdk.InvalidField("body", "unknown field %s", field)
		}
		return nil, sdk.InvalidField("body", "body is not a valid message")
	}
	if dec.More() {
		return nil, sdk.InvalidField("body", "body has data after the JSON object")
	}
	return &p, nil
}

// key checks an id the widget made: base64url characters, within bounds.
func key(field string, v *string, minLen, maxLen int) (string, error) {
	if v == nil || *v == "" {
		return "", sdk.InvalidField(field, "%s is required", field)
	}
	s := *v
	if len(s) < minLen || len(s) > maxLen {
		return "", sdk.InvalidField(field, "%s must be %d to %d characters long, as the widget makes it", field, minLen, maxLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", sdk.InvalidField(field, "%s may hold only the characters A-Z, a-z, 0-9, - and _", field)
		}
	}
	return s, nil
}

func allowedOrigin(origin string, allowed []string) bool {
	for _, a := range allowed {
		if strings.EqualFold(origin, a) {
			return true
		}
	}
	return false
}

// hubOrigin reports whether origin is the hub's own, where the demo page
// is: that page works whatever websites allowedOrigins lists.
func hubOrigin(origin, requestURL string) bool {
	u, err := url.Parse(requestURL)
	if err != nil || origin == "" || u.Host == "" {
		return false
	}
	return strings.EqualFold(origin, u.Scheme+"://"+u.Host)
}

func reply(status int, contentType string, body []byte) *sdk.InboundResult {
	return &sdk.InboundResult{Reply: &sdk.HTTPReply{Status: status, ContentType: contentType, Body: body}}
}

func errorBody(code, message string) []byte {
	b, _ := json.Marshal(map[string]string{"error": code, "message": message})
	return b
}
