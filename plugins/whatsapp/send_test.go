package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

func TestSendText(t *testing.T) {
	e := newEnv(t)
	res, err := e.send(t, sdk.SendRequest{To: "15551234567", Content: "Hi Ann, your order has shipped: https://example.com/t/1"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("fake recorded %d messages", len(msgs))
	}
	m := msgs[0]
	if res.ExternalID != m.ID || !strings.HasPrefix(m.ID, "wamid.") {
		t.Errorf("external ID %q, fake's %q", res.ExternalID, m.ID)
	}
	if m.Authorization != "Bearer "+e.opts.AccessToken {
		t.Errorf("authorization %q", m.Authorization)
	}
	var body map[string]any
	if err := json.Unmarshal(m.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual", "to": "15551234567", "type": "text",
		"text": map[string]any{"preview_url": false, "body": "Hi Ann, your order has shipped: https://example.com/t/1"},
	}
	if got, _ := json.Marshal(body); string(got) != mustJSON(t, want) {
		t.Errorf("body %s\nwant %s", got, mustJSON(t, want))
	}
}

func TestSendMedia(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		url, content           string
		wantType, wantFilename string
	}{
		{url: "https://cdn.example/a/photo.JPG", content: "the photo", wantType: "image"},
		{url: "https://cdn.example/a/p.png?sig=1", wantType: "image"},
		{url: "https://cdn.example/clip.mp4", content: "watch", wantType: "video"},
		{url: "https://cdn.example/files/report.pdf", content: "Q3", wantType: "document", wantFilename: "report.pdf"},
		{url: "https://cdn.example/voice.ogg", wantType: "document", wantFilename: "voice.ogg"},
		{url: "https://cdn.example/", wantType: "document"},
	}
	for i, tt := range tests {
		if _, err := e.send(t, sdk.SendRequest{To: "+15551234567", Content: tt.content, MediaURL: tt.url}); err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		m := e.fake.Messages()[i]
		if m.Type != tt.wantType || m.MediaLink != tt.url || m.Caption != tt.content || m.Filename != tt.wantFilename || m.To != "15551234567" {
			t.Errorf("%s: recorded %+v", tt.url, m)
		}
	}
}

// TestSendRefusedLocally: what WhatsApp cannot take fails at once, for
// good, and never reaches the provider.
func TestSendRefusedLocally(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		req  sdk.SendRequest
	}{
		{"recipient not a number", sdk.SendRequest{To: "ann", Content: "hi"}},
		{"empty recipient", sdk.SendRequest{To: "", Content: "hi"}},
		{"recipient too long", sdk.SendRequest{To: strings.Repeat("1", 33), Content: "hi"}},
		{"nothing to send", sdk.SendRequest{To: "15551234567", Content: "  "}},
		{"text too long", sdk.SendRequest{To: "15551234567", Content: strings.Repeat("é", 4097)}},
		{"caption too long", sdk.SendRequest{To: "15551234567", Content: strings.Repeat("x", 1025), MediaURL: "https://cdn.example/a.png"}},
		{"media URL not http", sdk.SendRequest{To: "15551234567", MediaURL: "file:///etc/passwd"}},
		{"media URL relative", sdk.SendRequest{To: "15551234567", MediaURL: "/a.png"}},
		{"NUL in the text", sdk.SendRequest{To: "15551234567", Content: "a\x00b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.send(t, tt.req)
			var perr *sdk.ProviderError
			if !errors.As(err, &perr) || perr.Retryable || perr.StatusCode != 0 {
				t.Fatalf("err = %#v, want a permanent failure", err)
			}
		})
	}
	if n := len(e.fake.Messages()); n != 0 {
		t.Errorf("%d refused messages reached the provider", n)
	}
}

func TestSendProviderFailures(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name           string
		fail           func()
		config         json.RawMessage
		wantStatus     int
		wantRetryable  bool
		wantRetryAfter time.Duration
		wantInMessage  []string
	}{
		{name: "500 is retryable", fail: func() { e.fake.FailNext(500, 1) },
			wantStatus: 500, wantRetryable: true, wantInMessage: []string{"131000: ", "Something went wrong"}},
		{name: "503 is retryable", fail: func() { e.fake.FailNext(503, 1) },
			wantStatus: 503, wantRetryable: true, wantInMessage: []string{"131016: "}},
		{name: "429 with Retry-After", fail: func() { e.fake.FailNextRetryAfter(429, 1, 7*time.Second) },
			wantStatus: 429, wantRetryable: true, wantRetryAfter: 7 * time.Second, wantInMessage: []string{"130429: ", "Rate limit hit"}},
		{name: "400 is permanent with code and message", fail: func() { e.fake.FailNext(400, 1) },
			wantStatus: 400, wantInMessage: []string{"100: ", "Invalid parameter", "failure programmed with FailNext"}},
		{name: "wrong access token", config: e.configWith(map[string]any{"accessToken": "EAAGexpired"}),
			wantStatus: 401, wantInMessage: []string{"190: ", "access token"}},
		{name: "another phone number ID", config: e.configWith(map[string]any{"phoneNumberId": "42"}),
			wantStatus: 400, wantInMessage: []string{"100: ", "'42' does not exist"}},
		{name: "provider down", config: e.configWith(map[string]any{"baseUrl": "http://127.0.0.1:1"}),
			wantRetryable: true, wantInMessage: []string{"request failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fail != nil {
				tt.fail()
			}
			_, err := e.send(t, sdk.SendRequest{Config: tt.config, To: "15551234567", Content: "hi"})
			var perr *sdk.ProviderError
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want a provider error", err)
			}
			if perr.StatusCode != tt.wantStatus || perr.Retryable != tt.wantRetryable || perr.RetryAfter != tt.wantRetryAfter {
				t.Errorf("got %+v", perr)
			}
			for _, s := range tt.wantInMessage {
				if !strings.Contains(perr.Message, s) {
					t.Errorf("message %q lacks %q", perr.Message, s)
				}
			}
			e.noSecrets(t, perr.Error())
		})
	}
	if n := len(e.fake.Messages()); n != 0 {
		t.Errorf("fake recorded %d messages from failed sends", n)
	}
}

func TestSendPrivateAddressRefused(t *testing.T) {
	e := newEnv(t)
	_, err := e.client.Send(t.Context(), &sdk.SendRequest{Config: e.config, To: "15551234567", Content: "hi", AllowPrivate: false})
	var perr *sdk.ProviderError
	if !errors.As(err, &perr) || perr.Retryable || perr.Message != sdk.ErrPrivateAddress.Error() {
		t.Fatalf("err = %#v, want the private-address refusal", err)
	}
	if n := len(e.fake.Messages()); n != 0 {
		t.Errorf("the fake on loopback was reached: %d messages", n)
	}
}

// TestSecretsNeverInErrors: a provider that echoes what it was sent cannot
// make the plugin repeat the connection's secrets.
func TestSecretsNeverInErrors(t *testing.T) {
	e := newEnv(t)
	echo := `{"error":{"message":"bad token ` + e.opts.AccessToken + ` for app ` + e.opts.AppSecret + `","code":190,"error_data":{"details":"verify ` + testVerifyToken + `"}}}`
	for _, status := range []int{http.StatusBadRequest, http.StatusInternalServerError} {
		graph := newFakeGraph(t, status, echo)
		cfg := e.configWith(map[string]any{"baseUrl": graph.URL})

		_, err := e.send(t, sdk.SendRequest{Config: cfg, To: "15551234567", Content: "hi"})
		if err == nil {
			t.Fatalf("%d: send succeeded", status)
		}
		e.noSecrets(t, err.Error())
		if !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("%d: %v", status, err)
		}

		body := notificationBody(t, e.opts.PhoneNumberID, map[string]any{"messages": []any{
			map[string]any{"from": "1", "id": "wamid.M", "timestamp": "1", "type": "image", "image": map[string]any{"id": "42"}},
		}})
		res, err := e.postWith(t, body, fakeprovider.CloudAPISignature(e.opts.AppSecret, body), cfg, true)
		if err != nil {
			e.noSecrets(t, err.Error())
		} else if res.Messages[0].MediaURL != "" {
			t.Errorf("%d: media URL from an error answer", status)
		}
	}
}

// TestSendAnswerWithoutID: an accepted send whose answer names no message
// counts as sent, with no external ID, rather than being sent twice.
func TestSendAnswerWithoutID(t *testing.T) {
	e := newEnv(t)
	for _, answer := range []string{`{}`, `not json`, `{"messages":[{"id":"wamid.\u0001"}]}`, `{"messages":[]}`} {
		graph := newFakeGraph(t, http.StatusOK, answer)
		res, err := e.send(t, sdk.SendRequest{Config: e.configWith(map[string]any{"baseUrl": graph.URL}), To: "15551234567", Content: "hi"})
		if err != nil || res.ExternalID != "" {
			t.Errorf("%s: result %+v, err %v", answer, res, err)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
