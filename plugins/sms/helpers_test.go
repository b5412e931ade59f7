package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Credentials of the tests that need no running fake.
const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAuthToken  = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	testHookURL    = "https://hub.example.com/api/webhooks/sms/conn1"
)

var received = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// providerConfig is a connection's provider settings as the hub passes them.
func providerConfig(t testing.TB, accountSID, authToken, baseURL string) json.RawMessage {
	t.Helper()
	c := map[string]string{"accountSid": accountSID, "authToken": authToken}
	if baseURL != "" {
		c["baseUrl"] = baseURL
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// startFake starts a fake Twilio on loopback for one test.
func startFake(t *testing.T, opts fakeprovider.TwilioOptions) *fakeprovider.Twilio {
	t.Helper()
	tw := fakeprovider.NewTwilio(opts)
	if err := tw.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tw.Close() })
	return tw
}

// hubOutcome is what the plugin made of one request to the hub.
type hubOutcome struct {
	result *sdk.InboundResult
	err    error
}

// hub stands in for the hub's /api/webhooks/sms/{connectionId} route: it
// turns each provider request into an InboundRequest, as the hub does,
// hands it to the plugin through the real gRPC adapters, and answers with
// the plugin's reply.
type hub struct {
	*httptest.Server
	mu       sync.Mutex
	outcomes []hubOutcome
}

func newHub(t *testing.T, client sdk.Channel, config json.RawMessage) *hub {
	t.Helper()
	h := &hub{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		res, err := client.HandleInbound(r.Context(), &sdk.InboundRequest{
			ConnectionID: "conn1",
			Method:       r.Method,
			URL:          "http://" + r.Host + r.RequestURI,
			Header:       r.Header.Clone(),
			Body:         body,
			Config:       config,
			ReceivedAt:   received,
			AllowPrivate: true,
		})
		h.mu.Lock()
		h.outcomes = append(h.outcomes, hubOutcome{res, err})
		h.mu.Unlock()
		var rej *sdk.RejectError
		switch {
		case errors.As(err, &rej):
			http.Error(w, rej.Message, http.StatusForbidden)
		case err != nil:
			http.Error(w, "plugin failed", http.StatusInternalServerError)
		case res.Reply != nil:
			if res.Reply.ContentType != "" {
				w.Header().Set("Content-Type", res.Reply.ContentType)
			}
			w.WriteHeader(res.Reply.Status)
			w.Write(res.Reply.Body)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hub) seen() []hubOutcome {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hubOutcome(nil), h.outcomes...)
}

// statuses are the status updates the hub received so far.
func (h *hub) statuses() []sdk.StatusUpdate {
	var out []sdk.StatusUpdate
	for _, o := range h.seen() {
		if o.result != nil {
			out = append(out, o.result.Statuses...)
		}
	}
	return out
}

// signedRequest is a provider form post to rawURL signed with authToken.
func signedRequest(t testing.TB, rawURL string, form url.Values, authToken string) *sdk.InboundRequest {
	t.Helper()
	return &sdk.InboundRequest{
		ConnectionID: "conn1",
		Method:       http.MethodPost,
		URL:          rawURL,
		Header: http.Header{
			"Content-Type":       {"application/x-www-form-urlencoded"},
			"X-Twilio-Signature": {fakeprovider.TwilioSignature(authToken, rawURL, form)},
		},
		Body:       []byte(form.Encode()),
		Config:     providerConfig(t, testAccountSID, authToken, ""),
		ReceivedAt: received,
	}
}

// leaksSecret says whether text shows the auth token, alone or as the
// Basic credential.
func leaksSecret(text, accountSID, authToken string) bool {
	basic := base64Basic(accountSID, authToken)
	return strings.Contains(text, authToken) || strings.Contains(text, basic)
}

func base64Basic(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
