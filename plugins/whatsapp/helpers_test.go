package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/plugins/sdk/plugintest"
)

// Values the tests give connections.
const (
	testVerifyToken = "verify-token-7d1c"
	testDisplayNum  = "+1 555-000-0001"
)

var testReceivedAt = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// env is one connection wired to a fake Cloud API on a loopback listener,
// and the plugin behind the real gRPC adapters.
type env struct {
	fake   *fakeprovider.CloudAPI
	opts   fakeprovider.CloudAPIOptions
	client sdk.Channel
	config json.RawMessage
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, fakeprovider.CloudAPIOptions{})
}

func newEnvWith(t *testing.T, opts fakeprovider.CloudAPIOptions) *env {
	t.Helper()
	if opts.DisplayPhoneNumber == "" {
		opts.DisplayPhoneNumber = testDisplayNum
	}
	if opts.StatusDelay == 0 {
		opts.StatusDelay = 5 * time.Millisecond
	}
	fake := fakeprovider.NewCloudAPI(opts)
	if err := fake.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	e := &env{fake: fake, opts: fake.Options(), client: plugintest.Connect(t, &WhatsApp{})}
	e.config = e.configWith(nil)
	return e
}

// configWith is the connection's settings with some replaced.
func (e *env) configWith(change map[string]any) json.RawMessage {
	cfg := map[string]any{
		"phoneNumberId": e.opts.PhoneNumberID,
		"accessToken":   e.opts.AccessToken,
		"appSecret":     e.opts.AppSecret,
		"verifyToken":   testVerifyToken,
		"baseUrl":       e.fake.URL(),
		"apiVersion":    e.opts.APIVersion,
	}
	for k, v := range change {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = v
		}
	}
	b, _ := json.Marshal(cfg)
	return b
}

// post hands the plugin a webhook post signed with the app secret.
func (e *env) post(t *testing.T, body []byte) (*sdk.InboundResult, error) {
	t.Helper()
	return e.postWith(t, body, fakeprovider.CloudAPISignature(e.opts.AppSecret, body), e.config, true)
}

func (e *env) postWith(t *testing.T, body []byte, signature string, config json.RawMessage, allowPrivate bool) (*sdk.InboundResult, error) {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	if signature != "" {
		h.Set(SignatureHeader, signature)
	}
	return e.client.HandleInbound(t.Context(), &sdk.InboundRequest{
		ConnectionID: "conn_1",
		Method:       http.MethodPost,
		URL:          "https://hub.example/api/webhooks/whatsapp/conn_1",
		Header:       h,
		Body:         body,
		Config:       config,
		ReceivedAt:   testReceivedAt,
		AllowPrivate: allowPrivate,
	})
}

// send asks the plugin to send, as the hub's delivery would, allowing the
// loopback fake.
func (e *env) send(t *testing.T, req sdk.SendRequest) (*sdk.SendResult, error) {
	t.Helper()
	if req.Config == nil {
		req.Config = e.config
	}
	req.From = digits(testDisplayNum)
	req.MessageID = "msg_1"
	req.AllowPrivate = true
	return e.client.Send(t.Context(), &req)
}

// miniHub stands in for the hub's webhook route: it hands each request to
// the plugin as the hub does and answers with the plugin's reply, "ok" for
// a rejection and 500 for a plugin failure.
type miniHub struct {
	srv *httptest.Server

	mu       sync.Mutex
	results  []*sdk.InboundResult
	errs     []error
	arrivals chan struct{}
}

func newMiniHub(t *testing.T, e *env) *miniHub {
	t.Helper()
	h := &miniHub{arrivals: make(chan struct{}, 100)}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/webhooks/whatsapp/{connectionID}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		res, err := e.client.HandleInbound(r.Context(), &sdk.InboundRequest{
			ConnectionID: r.PathValue("connectionID"),
			Method:       r.Method,
			URL:          "http://" + r.Host + r.URL.RequestURI(),
			Header:       r.Header,
			Body:         body,
			Config:       e.config,
			ReceivedAt:   time.Now(),
			AllowPrivate: true,
		})
		h.mu.Lock()
		h.results = append(h.results, res)
		h.errs = append(h.errs, err)
		h.mu.Unlock()
		h.arrivals <- struct{}{}
		var rej *sdk.RejectError
		switch {
		case errors.As(err, &rej):
			io.WriteString(w, "ok")
		case err != nil:
			http.Error(w, "plugin failed", http.StatusInternalServerError)
		case res.Reply != nil:
			if res.Reply.ContentType != "" {
				w.Header().Set("Content-Type", res.Reply.ContentType)
			}
			w.WriteHeader(res.Reply.Status)
			w.Write(res.Reply.Body)
		default:
			io.WriteString(w, "ok")
		}
	})
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *miniHub) url() string { return h.srv.URL + "/api/webhooks/whatsapp/conn_1" }

// wait waits for n more requests and returns everything seen so far.
func (h *miniHub) wait(t *testing.T, n int) ([]*sdk.InboundResult, []error) {
	t.Helper()
	for range n {
		select {
		case <-h.arrivals:
		case <-time.After(10 * time.Second):
			t.Fatalf("mini hub: timed out waiting for a webhook")
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*sdk.InboundResult(nil), h.results...), append([]error(nil), h.errs...)
}

// notificationBody builds a webhook body around one change value.
func notificationBody(t *testing.T, phoneNumberID string, value map[string]any) []byte {
	t.Helper()
	value["messaging_product"] = "whatsapp"
	if _, ok := value["metadata"]; !ok {
		value["metadata"] = map[string]any{"display_phone_number": testDisplayNum, "phone_number_id": phoneNumberID}
	}
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      "200000000000001",
			"changes": []any{map[string]any{"field": "messages", "value": value}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// textValue is a change value with one text message from a contact.
func textValue(from, name, id, body string) map[string]any {
	return map[string]any{
		"contacts": []any{map[string]any{"profile": map[string]any{"name": name}, "wa_id": from}},
		"messages": []any{map[string]any{"from": from, "id": id, "timestamp": "1750857384", "type": "text", "text": map[string]any{"body": body}}},
	}
}

// wantReject checks that err is a rejection with the reason and, when
// field is not empty, the field.
func wantReject(t *testing.T, err error, reason sdk.Reason, field string) *sdk.RejectError {
	t.Helper()
	var rej *sdk.RejectError
	if !errors.As(err, &rej) {
		t.Fatalf("err = %v, want a rejection (%v %s)", err, reason, field)
	}
	if rej.Reason != reason || (field != "" && rej.Field != field) {
		t.Fatalf("rejection %v %q %q, want %v %q", rej.Reason, rej.Field, rej.Message, reason, field)
	}
	return rej
}

// noSecrets fails when text holds any of the connection's secrets.
func (e *env) noSecrets(t *testing.T, text string) {
	t.Helper()
	for name, secret := range map[string]string{"access token": e.opts.AccessToken, "app secret": e.opts.AppSecret, "verify token": testVerifyToken} {
		if strings.Contains(text, secret) {
			t.Errorf("the %s appears in %q", name, text)
		}
	}
}

// fakeGraph is a Graph API stand-in that answers every call with one
// status and body, and keeps the calls' Authorization headers.
type fakeGraph struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newFakeGraph(t *testing.T, status int, body string) *fakeGraph {
	t.Helper()
	g := &fakeGraph{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.auths = append(g.auths, r.Header.Get("Authorization"))
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(g.Close)
	return g
}
