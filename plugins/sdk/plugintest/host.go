package plugintest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Host is a fake hub for a plugin's tests: it serves the plugin through
// the real gRPC adapters, in process, checks the configuration against
// the plugin's schema as the hub would, hands it provider requests, and
// runs a stand-in provider that records the plugin's outbound calls.
//
//	h := plugintest.NewHost(t, &MyChannel{}, map[string]any{"token": "t", "baseUrl": plugintest.ProviderURL})
//	res := h.Post("/", http.Header{"X-Signature": {sig}}, body)
//	res.ExpectMessages(t, 1)
//	h.Provider.Respond(http.StatusOK, `{"id":"m-1"}`)
//	out, err := h.Send(&sdk.SendRequest{To: "+15550001111", Content: "hi"})
type Host struct {
	t      testing.TB
	client sdk.Channel
	// Info is what the plugin declared.
	Info sdk.Info
	// Config is the configuration passed with every request.
	Config json.RawMessage
	// URL is the public URL provider requests are addressed to.
	URL string
	// Provider stands in for the provider's API; its URL replaces
	// ProviderURL in the configuration.
	Provider *Provider
}

// ProviderURL in a configuration value is replaced by the stand-in
// provider's URL.
const ProviderURL = "{{provider}}"

// NewHost starts the plugin and checks config against its schema; a
// configuration the hub would refuse fails the test.
func NewHost(t testing.TB, ch sdk.Channel, config any) *Host {
	t.Helper()
	p := newProvider(t)
	raw, err := json.Marshal(config)
	if err != nil {
		t.Fatalf("plugintest: config: %v", err)
	}
	raw = bytes.ReplaceAll(raw, []byte(ProviderURL), []byte(p.URL))
	h := &Host{t: t, client: Connect(t, ch), Config: raw, URL: "https://hub.example.com/api/webhooks/test/connection-1", Provider: p}
	h.Info = h.client.Info()
	if err := checkSchema(h.Info.ConfigSchema, raw); err != nil {
		t.Fatalf("plugintest: the hub would refuse this configuration: %v", err)
	}
	return h
}

func checkSchema(schema string, cfg []byte) error {
	if strings.TrimSpace(schema) == "" {
		return nil
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		return err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("plugin://config.json", doc); err != nil {
		return err
	}
	s, err := c.Compile("plugin://config.json")
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(cfg))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// Result is what the plugin made of one provider request.
type Result struct {
	Messages []sdk.InboundMessage
	Statuses []sdk.StatusUpdate
	Reply    *sdk.HTTPReply
	// Rejection is set when the plugin refused the request.
	Rejection *sdk.RejectError
	// Err is any other failure (the hub would keep the request and retry).
	Err error
}

// Post hands the plugin a provider's POST to URL+path.
func (h *Host) Post(path string, header http.Header, body []byte) *Result {
	return h.Do(http.MethodPost, path, header, body)
}

// Do hands the plugin a provider request, as the hub would after reading it.
func (h *Host) Do(method, path string, header http.Header, body []byte) *Result {
	if header == nil {
		header = http.Header{}
	}
	res, err := h.client.HandleInbound(h.t.Context(), &sdk.InboundRequest{
		ConnectionID: "connection-1", Method: method, URL: h.URL + path, Header: header, Body: body,
		Config: h.Config, ReceivedAt: time.Now().UTC(), AllowPrivate: true,
	})
	out := &Result{}
	var rej *sdk.RejectError
	switch {
	case errors.As(err, &rej):
		out.Rejection = rej
	case err != nil:
		out.Err = err
	default:
		out.Messages, out.Statuses, out.Reply = res.Messages, res.Statuses, res.Reply
	}
	return out
}

// ExpectMessages fails the test unless the request gave n messages.
func (r *Result) ExpectMessages(t testing.TB, n int) []sdk.InboundMessage {
	t.Helper()
	if r.Rejection != nil || r.Err != nil || len(r.Messages) != n {
		t.Fatalf("plugintest: want %d messages, got %d (rejection %v, error %v)", n, len(r.Messages), r.Rejection, r.Err)
	}
	return r.Messages
}

// ExpectRejected fails the test unless the plugin refused the request for reason.
func (r *Result) ExpectRejected(t testing.TB, reason sdk.Reason) {
	t.Helper()
	if r.Rejection == nil || r.Rejection.Reason != reason || len(r.Messages) > 0 {
		t.Fatalf("plugintest: want a refusal (%v), got rejection %v, error %v, %d messages", reason, r.Rejection, r.Err, len(r.Messages))
	}
}

// Send asks the plugin to send a message with the host's configuration.
func (h *Host) Send(req *sdk.SendRequest) (*sdk.SendResult, error) {
	r := *req
	r.Config, r.AllowPrivate = h.Config, true
	if r.CallbackURL == "" {
		r.CallbackURL = h.URL
	}
	return h.client.Send(h.t.Context(), &r)
}

// CheckConfig asks the plugin to check settings, as the hub does when an
// admin saves them after the schema accepted them. It returns nil when the
// plugin does not implement sdk.ConfigChecker.
func (h *Host) CheckConfig(config any) error {
	raw, err := json.Marshal(config)
	if err != nil {
		h.t.Fatalf("plugintest: config: %v", err)
	}
	raw = bytes.ReplaceAll(raw, []byte(ProviderURL), []byte(h.Provider.URL))
	if err := checkSchema(h.Info.ConfigSchema, raw); err != nil {
		h.t.Fatalf("plugintest: the hub would refuse this configuration before asking the plugin: %v", err)
	}
	return h.client.(sdk.ConfigChecker).CheckConfig(h.t.Context(), raw)
}

// Activate asks the plugin to prepare the provider for the connection, as
// the hub does when an integration starts using it. It returns nil when
// the plugin does not implement sdk.Activator.
func (h *Host) Activate() error {
	return h.client.(sdk.Activator).Activate(h.t.Context(), &sdk.ActivateRequest{
		ConnectionID: "connection-1", Config: h.Config, InboundURL: h.URL, AllowPrivate: true,
	})
}

// Provider is a stand-in provider API: it records every call the plugin
// makes and answers with what the test told it.
type Provider struct {
	URL    string
	mu     sync.Mutex
	calls  []Call
	status int
	body   string
}

// Call is one request the plugin made to the provider.
type Call struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

func newProvider(t testing.TB) *Provider {
	p := &Provider{status: http.StatusOK, body: "{}"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		p.mu.Lock()
		p.calls = append(p.calls, Call{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
		status, answer := p.status, p.body
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Respond sets the provider's answer to the calls that follow.
func (p *Provider) Respond(status int, body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.body = status, body
}

// Calls returns the calls made so far.
func (p *Provider) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}
