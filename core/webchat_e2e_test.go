package core_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// The website chat, end to end: a visitor posts through the public routes
// as the widget does, agents answer through the admin API, and the visitor
// sees the answers on the live stream.

// liveWait bounds every wait for something to arrive live. It is generous:
// the tests wait for events, never for time to pass.
const liveWait = 15 * time.Second

// newVisitor makes a visitor id as the widget does: 32 random bytes, base64url.
func newVisitor() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newMessageID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// visitorPost posts a visitor's message to a hub, as the widget does.
func visitorPost(h *apptest.Hub, integrationID string, body map[string]any) *apptest.Response {
	return h.Do("POST", "/webchat/"+integrationID+"/messages", map[string]string{"Origin": "https://shop.example.com"}, body)
}

func say(visitor, content string) map[string]any {
	return map[string]any{"visitorId": visitor, "messageId": newMessageID(), "content": content}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	ID, Event, Data string
}

// streamMessage is a message event's data.
type streamMessage struct {
	ID          string `json:"id"`
	Direction   string `json:"direction"`
	ExternalID  string `json:"externalId"`
	Content     string `json:"content"`
	ContentType string `json:"contentType"`
}

// liveStream is a visitor's open stream.
type liveStream struct {
	resp *http.Response
	// events yields the events in order, and is closed once the hub ends
	// the stream; closed is closed then too.
	events chan sseEvent
	cancel context.CancelFunc
	closed chan struct{}
}

// openStream opens a visitor's live stream; the answer's status and, for
// 200, the stream.
func openStream(t *testing.T, h *apptest.Hub, integrationID, visitor, lastEventID string) (int, *liveStream) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", h.URL+"/webchat/"+integrationID+"/events?visitor="+visitor, nil)
	req.Header.Set("Origin", "https://shop.example.com")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return resp.StatusCode, nil
	}
	s := &liveStream{resp: resp, events: make(chan sseEvent, 1000), cancel: cancel, closed: make(chan struct{})}
	t.Cleanup(s.close)
	go func() {
		defer close(s.closed)
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Data != "" || ev.Event != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[6:]
			}
		}
	}()
	return http.StatusOK, s
}

func (s *liveStream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// message waits for the next message event that matches.
func (s *liveStream) message(t *testing.T, match func(m streamMessage) bool) (streamMessage, sseEvent) {
	t.Helper()
	deadline := time.After(liveWait)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended before the message came")
			}
			if ev.Event != "message" {
				continue
			}
			var m streamMessage
			if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
				t.Fatalf("message event data %q: %v", ev.Data, err)
			}
			if ev.ID != m.ID {
				t.Errorf("event id %q, message id %q", ev.ID, m.ID)
			}
			if match(m) {
				return m, ev
			}
		case <-deadline:
			t.Fatalf("no matching message on the stream within %s", liveWait)
		}
	}
}

// event waits for the next event named name.
func (s *liveStream) event(t *testing.T, name string) sseEvent {
	t.Helper()
	deadline := time.After(liveWait)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("the stream ended before a %q event", name)
			}
			if ev.Event == name {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event within %s", name, liveWait)
		}
	}
}

// ended waits for the hub to end the stream.
func (s *liveStream) ended(t *testing.T) {
	t.Helper()
	select {
	case <-s.closed:
	case <-time.After(liveWait):
		t.Fatalf("the stream is still open after %s", liveWait)
	}
}

func content(want string) func(streamMessage) bool {
	return func(m streamMessage) bool { return m.Content == want }
}

type webchatConversation struct {
	ID         string
	ExternalID string
	Status     string
	Contact    struct{ ExternalID, Name, Email string }
}

func webchatConversations(t *testing.T, h *apptest.Hub, integrationID string) []webchatConversation {
	t.Helper()
	var out struct{ Conversations []webchatConversation }
	h.Admin("GET", "/api/conversations?integrationId="+integrationID, nil).JSON(t, &out)
	return out.Conversations
}

func TestWebchatVisitorAndAgent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		rcv := apptest.NewReceiver(t)
		in := h.CreateIntegration(map[string]any{"name": "shop", "kind": "webchat", "outboundUrl": rcv.URL,
			"config": map[string]any{"title": "Shop help"}})
		visitor := newVisitor()

		// Before the visitor writes there is nothing to stream: 204, on
		// which a browser's EventSource stops.
		if status, _ := openStream(t, h, in.ID, visitor, ""); status != http.StatusNoContent {
			t.Fatalf("stream before any message: %d, want 204", status)
		}

		first := say(visitor, "Hello, is anyone there?")
		first["name"], first["email"] = "Ada", "ada@example.com"
		r := visitorPost(h, in.ID, first)
		if r.Status != http.StatusAccepted || r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("visitor post: %d %s %v", r.Status, r.Body, r.Header)
		}
		// A retry of the same message (same messageId) is accepted and stored once.
		if r := visitorPost(h, in.ID, first); r.Status != http.StatusAccepted {
			t.Fatalf("repeat: %d %s", r.Status, r.Body)
		}
		html := `<img src=x onerror="alert(1)"><b>bold?</b>`
		if r := visitorPost(h, in.ID, say(visitor, html)); r.Status != http.StatusAccepted {
			t.Fatalf("second post: %d %s", r.Status, r.Body)
		}

		// One conversation, named by the visitor id, with the visitor as contact.
		convs := webchatConversations(t, h, in.ID)
		if len(convs) != 1 {
			t.Fatalf("%d conversations, want 1: %+v", len(convs), convs)
		}
		conv := convs[0]
		if conv.ExternalID != visitor || conv.Contact.ExternalID != visitor || conv.Contact.Name != "Ada" || conv.Contact.Email != "ada@example.com" || conv.Status != "open" {
			t.Errorf("conversation %+v", conv)
		}
		var msgs struct {
			Messages []struct{ Direction, Content string }
		}
		h.Admin("GET", "/api/conversations/"+conv.ID+"/messages", nil).JSON(t, &msgs)
		if len(msgs.Messages) != 2 {
			t.Fatalf("%d messages stored, want 2 (the repeat dropped): %+v", len(msgs.Messages), msgs)
		}

		// The stream starts with the conversation so far; HTML comes as
		// data, in JSON, exactly as written.
		status, s := openStream(t, h, in.ID, visitor, "")
		if status != http.StatusOK {
			t.Fatalf("stream: %d", status)
		}
		if ct := s.resp.Header.Get("Content-Type"); ct != "text/event-stream" || s.resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("stream headers %v", s.resp.Header)
		}
		s.message(t, content("Hello, is anyone there?"))
		got, _ := s.message(t, func(streamMessage) bool { return true })
		if got.Content != html || got.ContentType != "text" || got.Direction != "inbound" || !strings.HasPrefix(got.ExternalID, visitor+":") {
			t.Errorf("second message on the stream: %+v", got)
		}

		// An agent's reply arrives on the open stream.
		if r := h.Admin("POST", "/api/conversations/"+conv.ID+"/messages", map[string]any{"content": "Hi Ada, how can I help?"}); r.Status != http.StatusCreated {
			t.Fatalf("agent reply: %d %s", r.Status, r.Body)
		}
		reply, replyEvent := s.message(t, content("Hi Ada, how can I help?"))
		if reply.Direction != "outbound" {
			t.Errorf("reply on the stream: %+v", reply)
		}

		// A reconnecting browser sends the last id it saw and gets what it missed.
		s.close()
		if r := h.Admin("POST", "/api/conversations/"+conv.ID+"/messages", map[string]any{"content": "Are you still there?"}); r.Status != http.StatusCreated {
			t.Fatalf("agent reply: %d %s", r.Status, r.Body)
		}
		status, s2 := openStream(t, h, in.ID, visitor, replyEvent.ID)
		if status != http.StatusOK {
			t.Fatalf("resume: %d", status)
		}
		s2.message(t, content("Are you still there?"))

		// The visitor's messages went to the integration's target, as a
		// chat's do; the agent's replies did not: they went to the widget.
		got2 := rcv.WaitFor(t, 2, liveWait)
		for _, d := range got2 {
			var body map[string]any
			json.Unmarshal(d.Body, &body)
			if body["chatId"] != visitor || body["event"] != "MESSAGE" || body["channel"] != "webchat" {
				t.Errorf("delivery %s", d.Body)
			}
			if text, _ := body["text"].(string); strings.Contains(text, "help?") || strings.Contains(text, "still there") {
				t.Errorf("an agent reply was delivered to the target: %s", d.Body)
			}
		}

		// The end is an event, after which the stream closes; the visitor's
		// next message opens a new conversation.
		if r := h.Admin("POST", "/api/conversations/"+conv.ID+"/end", nil); r.Status != http.StatusOK {
			t.Fatalf("end: %d %s", r.Status, r.Body)
		}
		s2.event(t, "end")
		s2.ended(t)
		if r := visitorPost(h, in.ID, say(visitor, "One more thing")); r.Status != http.StatusAccepted {
			t.Fatalf("post after the end: %d %s", r.Status, r.Body)
		}
		if convs := webchatConversations(t, h, in.ID); len(convs) != 2 || convs[0].Status != "open" || convs[0].ExternalID != visitor {
			t.Errorf("after the end, conversations %+v: want a new open one", convs)
		}
		_, s3 := openStream(t, h, in.ID, visitor, "")
		if s3 == nil {
			t.Fatal("no stream for the new conversation")
		}
		s3.message(t, content("One more thing"))
	})
}

func TestWebchatPublicRoutes(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "shop", "kind": "webchat", "config": map[string]any{"title": "Shop help"}})

	// The preflight a browser sends before posting JSON from another site.
	req, _ := http.NewRequest("OPTIONS", h.URL+"/webchat/"+in.ID+"/messages", nil)
	req.Header.Set("Origin", "https://shop.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "content-type") ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}

	js := h.Do("GET", "/webchat/"+in.ID+"/widget.js", nil, nil)
	if js.Status != http.StatusOK || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") ||
		js.Header.Get("Access-Control-Allow-Origin") != "*" || js.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(string(js.Body), `"title":"Shop help"`) {
		t.Fatalf("widget.js: %d %v\n%.300s", js.Status, js.Header, js.Body)
	}
	if etag := js.Header.Get("ETag"); etag == "" || h.Do("GET", "/webchat/"+in.ID+"/widget.js", map[string]string{"If-None-Match": etag}, nil).Status != http.StatusNotModified {
		t.Errorf("widget.js is not revalidated by its ETag %q", etag)
	}
	page := h.Do("GET", "/webchat/"+in.ID, nil, nil)
	if page.Status != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
		!strings.Contains(string(page.Body), h.URL+"/webchat/"+in.ID+"/widget.js") {
		t.Fatalf("demo page: %d %v\n%s", page.Status, page.Header, page.Body)
	}
	if strings.Contains(string(page.Body), "<script>") {
		t.Error("the demo page holds an inline script")
	}

	// Fetching the widget writes nothing to the event log.
	var events struct{ Events []map[string]any }
	h.Admin("GET", "/api/integrations/"+in.ID+"/events", nil).JSON(t, &events)
	if len(events.Events) != 0 {
		t.Errorf("fetching the widget logged %+v", events.Events)
	}

	// Unknown integrations, and integrations of other kinds, are not here.
	app := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
	for _, path := range []string{"/webchat/" + app.ID + "/widget.js", "/webchat/" + app.ID,
		"/webchat/0198c7d6-0000-7000-8000-000000000000/widget.js", "/webchat/not-an-id/widget.js"} {
		if r := h.Do("GET", path, nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, r.Status)
		}
	}
	if r := visitorPost(h, app.ID, say(newVisitor(), "hi")); r.Status != http.StatusNotFound {
		t.Errorf("visitor post to a custom integration: %d %s, want 404", r.Status, r.Body)
	}
}

func TestWebchatRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "shop", "kind": "webchat"})
		visitor := newVisitor()

		for _, tc := range []struct {
			name   string
			body   any
			status int
			says   string
		}{
			{"a message over 4 KiB", say(visitor, strings.Repeat("x", 4097)), http.StatusUnprocessableEntity, "longer than 4 KiB"},
			{"a short visitor id", say("abc123", "hi"), http.StatusUnprocessableEntity, "visitorId"},
			{"a visitor id of the wrong alphabet", say(strings.Repeat("a", 30)+"/+=", "hi"), http.StatusUnprocessableEntity, "visitorId"},
			{"a NUL byte", `{"visitorId":"` + visitor + `","messageId":"abcdefgh","content":"a\u0000b"}`, http.StatusUnprocessableEntity, "NUL"},
			{"invalid UTF-8", "{\"visitorId\":\"" + visitor + "\",\"messageId\":\"abcdefgh\",\"content\":\"a\xffb\"}", http.StatusUnprocessableEntity, "UTF-8"},
			{"a body over 64 KiB", say(visitor, strings.Repeat("x", 70<<10)), http.StatusRequestEntityTooLarge, "64 KiB"},
		} {
			var r *apptest.Response
			switch b := tc.body.(type) {
			case string:
				r = h.Do("POST", "/webchat/"+in.ID+"/messages", nil, b)
			default:
				r = visitorPost(h, in.ID, b.(map[string]any))
			}
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.says) || r.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s: %d %s, want %d saying %q", tc.name, r.Status, r.Body, tc.status, tc.says)
			}
		}
		if convs := webchatConversations(t, h, in.ID); len(convs) != 0 {
			t.Errorf("refused messages made conversations: %+v", convs)
		}
		var events struct {
			Events []struct{ Status, Error string }
		}
		h.Admin("GET", "/api/integrations/"+in.ID+"/events?status=routing_error", nil).JSON(t, &events)
		if len(events.Events) == 0 || !strings.Contains(events.Events[len(events.Events)-1].Error, "content") {
			t.Errorf("refusals in the event log: %+v", events.Events)
		}

		// A stream needs a visitor id of at least 128 bits.
		if status, _ := openStream(t, h, in.ID, "short", ""); status != http.StatusBadRequest {
			t.Errorf("stream with a short visitor id: %d, want 400", status)
		}

		// The rate limit: a burst past ten messages a visitor is refused.
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[int]int{}
		for range 40 {
			wg.Go(func() {
				r := visitorPost(h, in.ID, say(visitor, "spam"))
				mu.Lock()
				counts[r.Status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts[http.StatusTooManyRequests] == 0 || counts[http.StatusAccepted] == 0 || counts[http.StatusAccepted]+counts[http.StatusTooManyRequests] != 40 {
			t.Errorf("40 messages at once from one visitor: %v, want some accepted and the rest 429", counts)
		}
		// Another visitor is not held back.
		if r := visitorPost(h, in.ID, say(newVisitor(), "hello")); r.Status != http.StatusAccepted {
			t.Errorf("another visitor: %d %s", r.Status, r.Body)
		}

		// A stopped integration takes nothing.
		if r := h.Admin("POST", "/api/integrations/"+in.ID+"/stop", nil); r.Status != http.StatusOK {
			t.Fatalf("stop: %d %s", r.Status, r.Body)
		}
		apptest.Eventually(t, liveWait, func() error {
			if r := visitorPost(h, in.ID, say(visitor, "anyone?")); r.Status != http.StatusServiceUnavailable {
				return fmt.Errorf("post to a stopped integration: %d %s", r.Status, r.Body)
			}
			return nil
		})
	})
}

// TestWebchatPageIsNotPoisonedByHost: without --public-url the demo page
// names the hub by the Host header the client sent, in the snippet an admin
// copies into their website. A shared cache that keys by path (nginx's
// proxy_cache does, by default) must not keep an attacker's answer for
// everyone; with --public-url the page names that, whatever the Host.
func TestWebchatPageIsNotPoisonedByHost(t *testing.T) {
	get := func(h *apptest.Hub, path string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", h.URL+path, nil)
		req.Host = "evil.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "shop", "kind": "webchat"})
	resp, body := get(h, "/webchat/"+in.ID)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("demo page: %d", resp.StatusCode)
	}
	if cc := resp.Header.Get("Cache-Control"); strings.Contains(body, "evil.example") && !strings.Contains(cc, "private") && !strings.Contains(cc, "no-store") {
		t.Errorf("a page naming the client's Host is cacheable by anyone: Cache-Control %q", cc)
	}

	pub := apptest.Start(t, storetest.SQLite(t), apptest.WithPublicURL("https://hub.example.com"))
	in = pub.CreateIntegration(map[string]any{"name": "shop", "kind": "webchat"})
	resp, body = get(pub, "/webchat/"+in.ID)
	if strings.Contains(body, "evil.example") || !strings.Contains(body, "https://hub.example.com/webchat/"+in.ID+"/widget.js") ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "public") {
		t.Errorf("with a public URL: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
}

// TestWebchatGenericRouteKeepsThePublicLimits: a webchat integration's
// inbound URL, /api/webhooks/webchat/{id}, reaches the same plugin as the
// widget's /webchat/{id}/messages. Senders there hold no key either, so
// the same limits hold: 64 KiB of body refused unlogged, and the messages
// of one client address.
func TestWebchatGenericRouteKeepsThePublicLimits(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "shop", "kind": "webchat"})
	generic := "/api/webhooks/webchat/" + in.ID

	r := h.Do("POST", generic, nil, say(newVisitor(), strings.Repeat("x", 70<<10)))
	if r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.Body), "64 KiB") {
		t.Errorf("a body over 64 KiB: %d %s, want 413", r.Status, r.Body)
	}
	var events struct{ Events []map[string]any }
	h.Admin("GET", "/api/integrations/"+in.ID+"/events", nil).JSON(t, &events)
	if len(events.Events) != 0 {
		t.Errorf("a refused body was logged: %+v", events.Events)
	}

	// From a public address (the test's own connections come from
	// loopback, which a proxy's are and which is not limited).
	post := func(addr string) int {
		b, _ := json.Marshal(say(newVisitor(), "hi"))
		req := httptest.NewRequest("POST", generic, bytes.NewReader(b))
		req.RemoteAddr = addr
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.App.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	counts := map[int]int{}
	for range 40 {
		counts[post("203.0.113.7:40000")]++
	}
	if counts[http.StatusTooManyRequests] == 0 || counts[http.StatusOK]+counts[http.StatusTooManyRequests] != 40 {
		t.Errorf("40 messages at once from one address: %v, want some accepted and the rest 429", counts)
	}
	if code := post("203.0.113.8:40000"); code != http.StatusOK {
		t.Errorf("another address: %d", code)
	}
}

// TestWebchatStreamsReadOnlyTheirOwn: a visitor id reads the visitor's
// conversation on its integration, and nothing else.
func TestWebchatStreamsReadOnlyTheirOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		a := h.CreateIntegration(map[string]any{"name": "shop a", "kind": "webchat"})
		b := h.CreateIntegration(map[string]any{"name": "shop b", "kind": "webchat"})
		visitor := newVisitor()
		if r := visitorPost(h, a.ID, say(visitor, "secret order 42")); r.Status != http.StatusAccepted {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
		// The same visitor id on another integration finds nothing.
		if status, _ := openStream(t, h, b.ID, visitor, ""); status != http.StatusNoContent {
			t.Errorf("visitor id of integration A on integration B: %d, want 204", status)
		}
		// Another visitor id finds nothing.
		if status, _ := openStream(t, h, a.ID, newVisitor(), ""); status != http.StatusNoContent {
			t.Errorf("another visitor id: %d, want 204", status)
		}

		// An app's conversation is not a visitor's, whatever its id.
		app := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		appConv := newVisitor()
		if r := h.PostCustom(app.ID, app.APIKey, map[string]any{"messageId": "m1", "conversationId": appConv,
			"from": map[string]any{"externalId": appConv}, "content": "app secret"}); r.Status != http.StatusOK {
			t.Fatalf("custom post: %d", r.Status)
		}
		if status, _ := openStream(t, h, app.ID, appConv, ""); status != http.StatusNotFound {
			t.Errorf("streaming a custom integration's conversation: %d, want 404", status)
		}
		if status, _ := openStream(t, h, a.ID, appConv, ""); status != http.StatusNoContent {
			t.Errorf("a custom conversation's id on a webchat integration: %d, want 204", status)
		}
	})
}

func TestWebchatStreamLimits(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithLiveStreams(3, 2))
	a := h.CreateIntegration(map[string]any{"name": "shop a", "kind": "webchat"})
	b := h.CreateIntegration(map[string]any{"name": "shop b", "kind": "webchat"})
	visitors := map[string][]string{}
	for _, in := range []string{a.ID, b.ID} {
		for range 3 {
			v := newVisitor()
			if r := visitorPost(h, in, say(v, "hi")); r.Status != http.StatusAccepted {
				t.Fatalf("post: %d %s", r.Status, r.Body)
			}
			visitors[in] = append(visitors[in], v)
		}
	}
	open := func(in, v string) int {
		status, s := openStream(t, h, in, v, "")
		if s != nil {
			s.message(t, content("hi"))
		}
		return status
	}
	// Two per integration.
	if open(a.ID, visitors[a.ID][0]) != http.StatusOK || open(a.ID, visitors[a.ID][1]) != http.StatusOK {
		t.Fatal("the first two streams of an integration were refused")
	}
	if status := open(a.ID, visitors[a.ID][2]); status != http.StatusServiceUnavailable {
		t.Errorf("third stream of one integration: %d, want 503", status)
	}
	// Three in all.
	if open(b.ID, visitors[b.ID][0]) != http.StatusOK {
		t.Fatal("another integration's first stream was refused")
	}
	if status := open(b.ID, visitors[b.ID][1]); status != http.StatusServiceUnavailable {
		t.Errorf("fourth stream in all: %d, want 503", status)
	}
	if n := h.App.OpenStreams(); n != 3 {
		t.Errorf("%d streams open, want 3", n)
	}
}

// TestWebchatShutdownEndsStreams: open streams do not hold shutdown up.
func TestWebchatShutdownEndsStreams(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "shop", "kind": "webchat"})
	var streams []*liveStream
	for range 3 {
		v := newVisitor()
		visitorPost(h, in.ID, say(v, "hi"))
		_, s := openStream(t, h, in.ID, v, "")
		if s == nil {
			t.Fatal("no stream")
		}
		s.message(t, content("hi"))
		streams = append(streams, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with open streams: %v", err)
	}
	for _, s := range streams {
		s.ended(t)
	}
}

// TestWebchatAcrossHubs: two hub processes on one PostgreSQL database. A
// visitor streaming from hub A sees a reply an agent posts on hub B, and
// still does after A's listening connection is cut.
func TestWebchatAcrossHubs(t *testing.T) {
	dbURL := storetest.Postgres(t)
	if dbURL == "" {
		t.Skip("needs PostgreSQL: set " + storetest.EnvDatabaseURL)
	}
	hubA := apptest.Start(t, dbURL)
	hubB := apptest.Start(t, dbURL)
	in := hubA.CreateIntegration(map[string]any{"name": "shop", "kind": "webchat"})
	visitor := newVisitor()
	if r := visitorPost(hubA, in.ID, say(visitor, "Hello from A")); r.Status != http.StatusAccepted {
		t.Fatalf("post: %d %s", r.Status, r.Body)
	}
	conv := webchatConversations(t, hubB, in.ID)[0].ID
	_, onA := openStream(t, hubA, in.ID, visitor, "")
	if onA == nil {
		t.Fatal("no stream on hub A")
	}
	onA.message(t, content("Hello from A"))
	_, onB := openStream(t, hubB, in.ID, visitor, "")
	if onB == nil {
		t.Fatal("no stream on hub B")
	}
	onB.message(t, content("Hello from A"))

	if r := hubB.Admin("POST", "/api/conversations/"+conv+"/messages", map[string]any{"content": "Reply from B"}); r.Status != http.StatusCreated {
		t.Fatalf("reply on hub B: %d %s", r.Status, r.Body)
	}
	onA.message(t, content("Reply from B"))
	onB.message(t, content("Reply from B"))

	// The visitor's own messages, posted to B, reach A's stream too.
	if r := visitorPost(hubB, in.ID, say(visitor, "Posted through B")); r.Status != http.StatusAccepted {
		t.Fatalf("post to B: %d %s", r.Status, r.Body)
	}
	onA.message(t, content("Posted through B"))

	// Cut every hub's listening connection: each reconnects, re-reads its
	// streams, and what was said meanwhile still arrives.
	storetest.Exec(t, dbURL, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'switchboard-live'`)
	if r := hubB.Admin("POST", "/api/conversations/"+conv+"/messages", map[string]any{"content": "After the cut"}); r.Status != http.StatusCreated {
		t.Fatalf("reply on hub B: %d %s", r.Status, r.Body)
	}
	onA.message(t, content("After the cut"))
	if r := hubB.Admin("POST", "/api/conversations/"+conv+"/messages", map[string]any{"content": "Once reconnected"}); r.Status != http.StatusCreated {
		t.Fatalf("reply on hub B: %d %s", r.Status, r.Body)
	}
	onA.message(t, content("Once reconnected"))
}

// TestWebchatResponseAPI: the customer's system answers a visitor through
// the response API, with the visitor id it got as chatId; the answer is
// streamed to the visitor.
func TestWebchatResponseAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "shop", "kind": "webchat"})
		visitor := newVisitor()
		if r := visitorPost(h, in.ID, say(visitor, "Where is my parcel?")); r.Status != http.StatusAccepted {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
		_, s := openStream(t, h, in.ID, visitor, "")
		if s == nil {
			t.Fatal("no stream")
		}
		s.message(t, content("Where is my parcel?"))

		respond := func(chat string, body map[string]any) *apptest.Response {
			return h.Do("POST", "/integrations/live-chat/"+in.ID+"/chats/"+chat+"/events",
				map[string]string{"Authorization": "Bearer " + in.ResponseToken}, body)
		}
		if r := respond(visitor, map[string]any{"type": "MESSAGE", "msg": "On its way!"}); r.Status != http.StatusAccepted {
			t.Fatalf("response: %d %s", r.Status, r.Body)
		}
		s.message(t, content("On its way!"))
		if r := respond(visitor, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "webchat"}, "msg": "Tracking: 42"}); r.Status != http.StatusAccepted {
			t.Fatalf("response naming the channel: %d %s", r.Status, r.Body)
		}
		s.message(t, content("Tracking: 42"))
		if r := respond(visitor, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS"}, "msg": "x"}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("response on another channel: %d %s, want 422", r.Status, r.Body)
		}
		if r := respond(newVisitor(), map[string]any{"type": "MESSAGE", "msg": "x"}); r.Status != http.StatusNotFound {
			t.Errorf("response to an unknown visitor: %d %s, want 404", r.Status, r.Body)
		}
		if r := respond(visitor, map[string]any{"type": "END"}); r.Status != http.StatusAccepted {
			t.Fatalf("end: %d %s", r.Status, r.Body)
		}
		s.event(t, "end")
	})
}
