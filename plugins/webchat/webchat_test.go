package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/plugins/sdk/plugintest"
)

const visitor = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg" // 43 characters, as the widget makes

func body(t *testing.T, fields map[string]any) []byte {
	t.Helper()
	m := map[string]any{"visitorId": visitor, "messageId": "bWVzc2FnZS0x", "content": "Hello"}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInfo(t *testing.T) {
	h := plugintest.NewHost(t, New(), map[string]any{})
	if h.Info.Kind != "webchat" || h.Info.AuthMode() != sdk.AuthPublic || h.Info.Sends || h.Info.Channel != "" {
		t.Errorf("info %+v: want kind webchat, public senders, no sending, no channel", h.Info)
	}
}

func TestVisitorMessage(t *testing.T) {
	h := plugintest.NewHost(t, New(), map[string]any{"title": "Acme support"})
	msgs := h.Post("", nil, body(t, map[string]any{"name": "Ada", "email": "ada@example.com"})).ExpectMessages(t, 1)
	m := msgs[0]
	if m.ThreadExternalID != visitor || m.From.ExternalID != visitor {
		t.Errorf("thread %q contact %q: the visitor id names both", m.ThreadExternalID, m.From.ExternalID)
	}
	if m.ExternalID != visitor+":bWVzc2FnZS0x" {
		t.Errorf("message id %q: want it scoped to the visitor", m.ExternalID)
	}
	if m.From.Name != "Ada" || m.From.Email != "ada@example.com" || m.Content != "Hello" || m.ContentType != "text" ||
		m.Subject != "Acme support" || m.Event != sdk.EventMessage || m.SentAt.IsZero() {
		t.Errorf("message %+v", m)
	}

	// HTML is a visitor's text like any other: passed on as text, as written.
	html := `<img src=x onerror=alert(1)><script>alert(2)</script>`
	if got := h.Post("", nil, body(t, map[string]any{"content": html})).ExpectMessages(t, 1)[0]; got.Content != html || got.ContentType != "text" {
		t.Errorf("html message came out as %q (%s)", got.Content, got.ContentType)
	}
	// Exactly 4 KiB is taken.
	h.Post("", nil, body(t, map[string]any{"content": strings.Repeat("é", MaxContent/2)})).ExpectMessages(t, 1)
}

func TestVisitorMessageRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  []byte
		field string
		says  string
	}{
		{"visitor id too short", body(t, map[string]any{"visitorId": strings.Repeat("a", 21)}), "visitorId", "22 to 64"},
		{"visitor id too long", body(t, map[string]any{"visitorId": strings.Repeat("a", 65)}), "visitorId", "22 to 64"},
		{"visitor id with +", body(t, map[string]any{"visitorId": strings.Repeat("a", 30) + "+"}), "visitorId", "only the characters"},
		{"visitor id with padding", body(t, map[string]any{"visitorId": strings.Repeat("a", 30) + "=="}), "visitorId", "only the characters"},
		{"visitor id with a space", body(t, map[string]any{"visitorId": strings.Repeat("a", 15) + " " + strings.Repeat("a", 15)}), "visitorId", "only the characters"},
		{"visitor id not ASCII", body(t, map[string]any{"visitorId": strings.Repeat("ä", 15)}), "visitorId", "only the characters"},
		{"visitor id a number", []byte(`{"visitorId":1234567890123456789012345,"messageId":"abcdefgh","content":"x"}`), "visitorId", "must be a string"},
		{"no visitor id", body(t, map[string]any{"visitorId": nil}), "visitorId", "required"},
		{"message id too short", body(t, map[string]any{"messageId": "abc"}), "messageId", "8 to 64"},
		{"message id with a slash", body(t, map[string]any{"messageId": "abc/defgh"}), "messageId", "only the characters"},
		{"no content", body(t, map[string]any{"content": nil}), "content", "required"},
		{"blank content", body(t, map[string]any{"content": " \n\t "}), "content", "required"},
		{"content over 4 KiB", body(t, map[string]any{"content": strings.Repeat("a", MaxContent+1)}), "content", "longer than 4 KiB"},
		{"NUL in content", []byte(`{"visitorId":"` + visitor + `","messageId":"abcdefgh","content":"a\u0000b"}`), "content", "NUL"},
		{"invalid UTF-8 in content", []byte("{\"visitorId\":\"" + visitor + "\",\"messageId\":\"abcdefgh\",\"content\":\"a\xffb\"}"), "content", "UTF-8"},
		{"bad email", body(t, map[string]any{"email": "not an address"}), "email", "not an email address"},
		{"long name", body(t, map[string]any{"name": strings.Repeat("n", 101)}), "name", "longer than 100"},
		{"unknown field", body(t, map[string]any{"admin": true}), "body", "unknown field"},
		{"not JSON", []byte(`{"visitorId":`), "body", "not a valid message"},
		{"an array", []byte(`[1]`), "body", "JSON object"},
		{"trailing data", append(body(t, nil), []byte(`{}`)...), "body", "after the JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.NewHost(t, New(), map[string]any{})
			res := h.Post("", nil, tc.body)
			res.ExpectRejected(t, sdk.ReasonInvalidPayload)
			if res.Rejection.Field != tc.field || !strings.Contains(res.Rejection.Message, tc.says) {
				t.Errorf("refused %q: %q, want field %q saying %q", res.Rejection.Field, res.Rejection.Message, tc.field, tc.says)
			}
		})
	}
}

func TestAllowedOrigins(t *testing.T) {
	h := plugintest.NewHost(t, New(), map[string]any{"allowedOrigins": []string{"https://shop.example.com"}})
	h.Post("", http.Header{"Origin": {"https://shop.example.com"}}, body(t, nil)).ExpectMessages(t, 1)
	h.Post("", http.Header{"Origin": {"https://evil.example.net"}}, body(t, nil)).ExpectRejected(t, sdk.ReasonBadSignature)
	h.Post("", nil, body(t, nil)).ExpectRejected(t, sdk.ReasonBadSignature)
	// The hub's own origin is always taken: its demo page must work.
	h.Post("", http.Header{"Origin": {"https://hub.example.com"}}, body(t, nil)).ExpectMessages(t, 1)
	h.Post("", http.Header{"Origin": {"https://hub.example.com:8443"}}, body(t, nil)).ExpectRejected(t, sdk.ReasonBadSignature)
	h.Post("", http.Header{"Origin": {"http://hub.example.com"}}, body(t, nil)).ExpectRejected(t, sdk.ReasonBadSignature)

	var rej *sdk.RejectError
	if err := h.CheckConfig(map[string]any{"allowedOrigins": []string{"https://user@shop.example.com"}}); !errors.As(err, &rej) || rej.Field != "allowedOrigins[0]" {
		t.Errorf("an origin with a user: %v, want a refusal naming allowedOrigins[0]", err)
	}
	if err := h.CheckConfig(map[string]any{"title": "Hi", "greeting": "Ask us anything"}); err != nil {
		t.Errorf("good settings refused: %v", err)
	}
}

// clock is a fake time for the rate limit.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRateLimitPerVisitor(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := plugintest.NewHost(t, &Webchat{limiter: newLimiter(visitorRate, visitorBurst, 100, clk.now)}, map[string]any{})
	post := func(v string) *plugintest.Result {
		return h.Post("", nil, body(t, map[string]any{"visitorId": v}))
	}
	for i := range int(visitorBurst) {
		if res := post(visitor); len(res.Messages) != 1 {
			t.Fatalf("message %d of the burst: %+v", i+1, res)
		}
	}
	res := post(visitor)
	if res.Reply == nil || res.Reply.Status != http.StatusTooManyRequests || len(res.Messages) != 0 || res.Rejection != nil {
		t.Fatalf("a message past the burst: %+v, want a 429 reply and nothing logged", res)
	}
	if !strings.Contains(string(res.Reply.Body), "too fast") {
		t.Errorf("429 body %s", res.Reply.Body)
	}
	// Another visitor has a bucket of its own.
	post(strings.Repeat("B", 43)).ExpectMessages(t, 1)
	// The bucket refills at the rate.
	clk.add(time.Second / time.Duration(visitorRate))
	post(visitor).ExpectMessages(t, 1)
	if res := post(visitor); res.Reply == nil || res.Reply.Status != http.StatusTooManyRequests {
		t.Errorf("second message after one refill: %+v, want 429", res)
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	clk := &clock{t: time.Now()}
	l := newLimiter(visitorRate, visitorBurst, 50, clk.now)
	for i := range 1000 {
		l.allow(strings.Repeat("v", 22) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)))
	}
	if n := l.tracked(); n > 50 {
		t.Errorf("%d visitors tracked, want at most 50", n)
	}
}

func get(t *testing.T, config map[string]any, url string) *sdk.InboundResult {
	t.Helper()
	raw, _ := json.Marshal(config)
	ch := plugintest.Connect(t, New())
	res, err := ch.HandleInbound(t.Context(), &sdk.InboundRequest{IntegrationID: "0198c7d6-aaaa-7bbb-8ccc-123456789abc",
		Method: http.MethodGet, URL: url, Header: http.Header{}, Config: raw, ReceivedAt: time.Now()})
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if res.Reply == nil {
		t.Fatalf("GET %s: no reply", url)
	}
	return res
}

func TestWidgetAndPage(t *testing.T) {
	base := "https://hub.example.com/webchat/0198c7d6-aaaa-7bbb-8ccc-123456789abc"
	js := get(t, map[string]any{"title": "</script><b>Acme</b>", "greeting": "Hi \u2028there"}, base+"/widget.js").Reply
	if js.Status != http.StatusOK || !strings.HasPrefix(js.ContentType, "text/javascript") {
		t.Fatalf("widget.js: %d %s", js.Status, js.ContentType)
	}
	src := string(js.Body)
	if strings.Contains(src, "var settings = {};") || !strings.Contains(src, `\u003c/script\u003e\u003cb\u003eAcme`) || !strings.Contains(src, `\u2028`) {
		t.Errorf("settings not filled in, or not escaped:\n%.600s", src)
	}
	if strings.Contains(src, "</script>") {
		t.Error("the widget's script holds </script>")
	}

	page := get(t, map[string]any{"title": "<b>Acme</b>"}, base+"?x=1").Reply
	if page.Status != http.StatusOK || !strings.HasPrefix(page.ContentType, "text/html") {
		t.Fatalf("page: %d %s", page.Status, page.ContentType)
	}
	html := string(page.Body)
	if !strings.Contains(html, `<script src="`+base+`/widget.js" async></script>`) {
		t.Errorf("page does not embed the widget:\n%s", html)
	}
	if strings.Contains(html, "<b>Acme</b>") || !strings.Contains(html, "&lt;b&gt;Acme&lt;/b&gt;") {
		t.Errorf("title not escaped in the page:\n%s", html)
	}

	if r := get(t, nil, base+"/other.js").Reply; r.Status != http.StatusNotFound {
		t.Errorf("unknown file: %d", r.Status)
	}
}

// TestWidgetSource keeps the widget within its rules: no markup from
// strings, no code from strings, nothing loaded from elsewhere.
func TestWidgetSource(t *testing.T) {
	src := string(widgetJS)
	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
		"setTimeout(\"", "setInterval(", "http://", "https://", "import(", "@import", "url("} {
		if strings.Contains(src, banned) {
			t.Errorf("widget.js contains %q", banned)
		}
	}
	if strings.Count(src, string(settingsLine)) != 1 {
		t.Errorf("widget.js must hold the line %q once", settingsLine)
	}
	if !strings.Contains(src, "textContent") || !strings.Contains(src, "getRandomValues") || !strings.Contains(src, "credentials: \"omit\"") {
		t.Error("widget.js no longer renders with textContent, makes ids with getRandomValues, or omits credentials")
	}
	if len(widgetJS) > 16<<10 {
		t.Errorf("widget.js is %d bytes; keep it small", len(widgetJS))
	}
}

// TestReplaysAreNotRateLimited: requests the hub kept while the plugin was
// down were answered 202 already; handed over later, all at once, none is
// refused.
func TestReplaysAreNotRateLimited(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	ch := plugintest.Connect(t, &Webchat{limiter: newLimiter(visitorRate, visitorBurst, 100, clk.now)})
	for i := range 3 * int(visitorBurst) {
		res, err := ch.HandleInbound(t.Context(), &sdk.InboundRequest{Method: http.MethodPost, URL: "https://hub.example.com/webchat/i/messages",
			IntegrationID: "i", Header: http.Header{}, Body: body(t, nil), ReceivedAt: clk.now().Add(-time.Minute)})
		if err != nil || len(res.Messages) != 1 {
			t.Fatalf("kept request %d: %+v %v", i+1, res, err)
		}
	}
}

func TestPageOnlyOnThePublicRoute(t *testing.T) {
	r := get(t, nil, "https://hub.example.com/api/webhooks/webchat/0198c7d6-aaaa-7bbb-8ccc-123456789abc").Reply
	if r.Status != http.StatusNotFound {
		t.Errorf("page under the webhook path: %d, want 404", r.Status)
	}
}
