package core_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

type deliveryView struct {
	ID, Status, LastError, EventType, Target string
	AttemptCount                             int
	Attempts                                 []struct {
		N, StatusCode   int
		Error           string
		ResponseExcerpt string
		Logs            []string
		At              time.Time
	}
}

// conversationWithReply makes an integration with the given delivery, one
// inbound conversation, and posts a reply; it returns the conversation id.
func startConversation(t *testing.T, h *apptest.Hub, in apptest.Integration, conversationID string) string {
	t.Helper()
	r := h.PostCustom(in.ID, in.APIKey, fmt.Sprintf(`{"messageId":"in-%s","conversationId":%q,"from":{"externalId":"u-%s","name":"Jane Smith","email":"jane@example.com"},"content":"hi"}`, conversationID, conversationID, conversationID))
	if r.Status != 200 {
		t.Fatalf("inbound: %d", r.Status)
	}
	var convs struct {
		Conversations []struct{ ID, ExternalID string }
	}
	h.Admin("GET", "/api/conversations?integrationId="+in.ID+"&limit=500", nil).JSON(t, &convs)
	for _, c := range convs.Conversations {
		if c.ExternalID == conversationID {
			return c.ID
		}
	}
	t.Fatalf("conversation %s not found", conversationID)
	return ""
}

func reply(t *testing.T, h *apptest.Hub, conv, content string) {
	t.Helper()
	if r := h.Admin("POST", "/api/conversations/"+conv+"/messages", map[string]any{"content": content}); r.Status != http.StatusCreated {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
}

func deliveries(t *testing.T, h *apptest.Hub, query string) []deliveryView {
	t.Helper()
	var list struct{ Deliveries []deliveryView }
	h.Admin("GET", "/api/deliveries?limit=500&"+query, nil).JSON(t, &list)
	return list.Deliveries
}

func delivery(t *testing.T, h *apptest.Hub, id string) deliveryView {
	t.Helper()
	var d deliveryView
	h.Admin("GET", "/api/deliveries/"+id, nil).JSON(t, &d)
	return d
}

// waitDelivery waits for the integration's only delivery to reach status.
func waitDelivery(t *testing.T, h *apptest.Hub, integrationID, status string) deliveryView {
	t.Helper()
	var got deliveryView
	apptest.Eventually(t, 10*time.Second, func() error {
		ds := deliveries(t, h, "integrationId="+integrationID)
		if len(ds) != 1 {
			return fmt.Errorf("%d deliveries", len(ds))
		}
		if ds[0].Status != status {
			return fmt.Errorf("status %s (%s)", ds[0].Status, ds[0].LastError)
		}
		got = delivery(t, h, ds[0].ID)
		return nil
	})
	return got
}

func TestDeliveryTemplatesAndAuth(t *testing.T) {
	rc := apptest.NewReceiver(t)
	h := apptest.Start(t, storetest.SQLite(t))
	tests := []struct {
		name       string
		auth       map[string]any
		wantHeader string
		wantValue  string
	}{
		{"none", map[string]any{"type": "none"}, "Authorization", ""},
		{"apiKey", map[string]any{"type": "apiKey", "header": "X-Api-Key", "value": "k-123"}, "X-Api-Key", "k-123"},
		{"basic", map[string]any{"type": "basic", "username": "hub", "password": "pw"}, "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("hub:pw"))},
		{"bearer", map[string]any{"type": "bearer", "token": "tok-9"}, "Authorization", "Bearer tok-9"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := h.CreateIntegration(map[string]any{"name": tt.name, "kind": "custom", "delivery": map[string]any{
				"method": "PUT",
				"url":    rc.URL + "/hooks/<<conversationId>>",
				"params": []map[string]any{
					{"key": "source", "type": "text", "value": "switchboard"},
					{"key": "msg", "type": "variable", "value": "messageId"},
				},
				"auth": tt.auth,
				"headers": []map[string]any{
					{"key": "X-Channel", "type": "variable", "value": "channel"},
					{"key": "X-Greeting", "type": "text", "value": "hello <<contact.name>>"},
				},
				"body": []map[string]any{
					{"key": "chat.id", "type": "variable", "value": "chatId"},
					{"key": "chat.contact.email", "type": "variable", "value": "contact.email"},
					{"key": "message", "type": "text", "value": "<<contact.name>>: <<content>>"},
					{"key": "tags[]", "type": "text", "value": "support"},
					{"key": "tags[]", "type": "variable", "value": "channel"},
				},
			}})
			// Secrets never come back from the API.
			if body := string(h.Admin("GET", "/api/integrations/"+in.ID, nil).Body); tt.wantValue != "" && strings.Contains(body, strings.TrimPrefix(strings.TrimPrefix(tt.wantValue, "Bearer "), "Basic ")) {
				t.Errorf("integration shows its auth secret: %s", body)
			}
			conv := startConversation(t, h, in, fmt.Sprintf("conv-%d", i))
			reply(t, h, conv, "ready")
			d := waitDelivery(t, h, in.ID, "succeeded")
			got := rc.WaitFor(t, i+1, 5*time.Second)[i]

			if got.Method != "PUT" || got.Path != fmt.Sprintf("/hooks/conv-%d", i) {
				t.Errorf("request line = %s %s", got.Method, got.Path)
			}
			if got.Query["source"][0] != "switchboard" || len(got.Query["msg"][0]) != 36 {
				t.Errorf("query = %v", got.Query)
			}
			if got.Header.Get("X-Channel") != "custom" || got.Header.Get("X-Greeting") != "hello Jane Smith" {
				t.Errorf("headers = %v", got.Header)
			}
			if v := got.Header.Get(tt.wantHeader); v != tt.wantValue {
				t.Errorf("%s = %q, want %q", tt.wantHeader, v, tt.wantValue)
			}
			var body map[string]any
			json.Unmarshal(got.Body, &body)
			want := `{"chat":{"contact":{"email":"jane@example.com"},"id":"conv-` + fmt.Sprint(i) + `"},"message":"Jane Smith: ready","tags":["support","custom"]}`
			if b, _ := json.Marshal(body); string(b) != want {
				t.Errorf("body = %s\nwant   %s", b, want)
			}
			if got.Header.Get("webhook-id") != d.ID || got.Header.Get("webhook-signature") == "" {
				t.Errorf("signature headers missing: %v", got.Header)
			}
		})
	}
}

func TestTransforms(t *testing.T) {
	rc := apptest.NewReceiver(t)
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithRetrySchedule(0, 50*time.Millisecond))
	mk := func(name, script string) apptest.Integration {
		return h.CreateIntegration(map[string]any{"name": name, "kind": "custom", "delivery": map[string]any{
			"url": rc.URL + "/original", "transform": script}})
	}

	t.Run("rewrites url and body", func(t *testing.T) {
		in := mk("rewrite", `function transform(request, event) {
  request.url = request.url.replace("/original", "/rewritten/" + event.conversationId);
  request.body = { text: event["contact.name"] + " <- " + event.content, list: [1, 2] };
  console.log("sending to", request.url);
  return request;
}`)
		reply(t, h, startConversation(t, h, in, "tr-1"), "ok?")
		d := waitDelivery(t, h, in.ID, "succeeded")
		got := rc.WaitFor(t, 1, 5*time.Second)[0]
		if got.Path != "/rewritten/tr-1" || string(got.Body) != `{"list":[1,2],"text":"Jane Smith \u003c- ok?"}` {
			t.Errorf("got %s %s", got.Path, got.Body)
		}
		if logs := d.Attempts[0].Logs; len(logs) != 1 || !strings.Contains(logs[0], "/rewritten/tr-1") {
			t.Errorf("attempt logs = %q", logs)
		}
	})

	t.Run("skips", func(t *testing.T) {
		before := len(rc.Requests())
		in := mk("skip", `function transform(request, event) { return event.content === "internal" ? null : request; }`)
		reply(t, h, startConversation(t, h, in, "tr-2"), "internal")
		d := waitDelivery(t, h, in.ID, "skipped")
		if d.AttemptCount != 1 || len(rc.Requests()) != before {
			t.Errorf("skipped delivery: %+v; receiver got %d new", d, len(rc.Requests())-before)
		}
	})

	t.Run("throws", func(t *testing.T) {
		in := mk("throw", "function transform(request, event) {\n  var missing;\n  return missing.field;\n}")
		reply(t, h, startConversation(t, h, in, "tr-3"), "x")
		d := waitDelivery(t, h, in.ID, "failed")
		if !strings.Contains(d.LastError, "TypeError") || !strings.Contains(d.LastError, "line 3") {
			t.Errorf("lastError = %q, want the TypeError and line 3", d.LastError)
		}
		if d.AttemptCount != 1 {
			t.Errorf("a script error was retried: %d attempts", d.AttemptCount)
		}
	})

	t.Run("loops forever", func(t *testing.T) {
		in := mk("loop", "function transform(request, event) {\n  for (;;) {}\n}")
		reply(t, h, startConversation(t, h, in, "tr-4"), "x")
		d := waitDelivery(t, h, in.ID, "failed")
		if d.LastError != "transform exceeded its time limit of 100ms" || d.AttemptCount != 1 {
			t.Errorf("lastError = %q", d.LastError)
		}
		// The hub is unharmed: another delivery goes through.
		ok := mk("after-loop", "function transform(request, event) { return request; }")
		reply(t, h, startConversation(t, h, ok, "tr-5"), "still here")
		waitDelivery(t, h, ok.ID, "succeeded")
		if r := h.Do("GET", "/readyz", nil, nil); r.Status != 200 {
			t.Errorf("readyz after a runaway script: %d", r.Status)
		}
	})
}

func TestRetryScheduleRetryAfterAndManualRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc := apptest.NewReceiver(t)
		var healthy atomic.Bool
		rc.Respond = func(n int, r *apptest.Received) apptest.Reply {
			switch {
			case strings.HasSuffix(r.Path, "/flaky") && n <= 2:
				return apptest.Reply{Status: 500, Body: "try later"}
			case strings.HasSuffix(r.Path, "/throttled") && !healthy.Load():
				healthy.Store(true)
				return apptest.Reply{Status: 503, Header: map[string]string{"Retry-After": "1"}}
			case strings.HasSuffix(r.Path, "/down") && !healthy.Load():
				return apptest.Reply{Status: 502}
			}
			return apptest.Reply{Status: 200, Body: "ok"}
		}
		h := apptest.Start(t, dbURL, apptest.WithRetrySchedule(0, 300*time.Millisecond, 600*time.Millisecond))

		// 500, 500, 200: three attempts spaced by the schedule.
		flaky := h.CreateIntegration(map[string]any{"name": "flaky", "kind": "custom", "outboundUrl": rc.URL + "/flaky"})
		reply(t, h, startConversation(t, h, flaky, "r-1"), "x")
		d := waitDelivery(t, h, flaky.ID, "succeeded")
		if len(d.Attempts) != 3 || d.Attempts[0].StatusCode != 500 || d.Attempts[1].StatusCode != 500 || d.Attempts[2].StatusCode != 200 {
			t.Fatalf("attempts = %+v", d.Attempts)
		}
		if d.Attempts[0].ResponseExcerpt != "try later" || d.Attempts[0].Error == "" {
			t.Errorf("first attempt = %+v", d.Attempts[0])
		}
		gap1, gap2 := d.Attempts[1].At.Sub(d.Attempts[0].At), d.Attempts[2].At.Sub(d.Attempts[1].At)
		if gap1 < 300*time.Millisecond || gap2 < 600*time.Millisecond || gap2 > 3*time.Second {
			t.Errorf("gaps %s and %s, want at least 300ms and 600ms", gap1, gap2)
		}

		// Retry-After: 1 outweighs the 300ms the schedule asks.
		healthy.Store(false)
		throttled := h.CreateIntegration(map[string]any{"name": "throttled", "kind": "custom", "outboundUrl": rc.URL + "/throttled"})
		reply(t, h, startConversation(t, h, throttled, "r-2"), "x")
		d = waitDelivery(t, h, throttled.ID, "succeeded")
		if len(d.Attempts) != 2 || d.Attempts[1].At.Sub(d.Attempts[0].At) < time.Second {
			t.Errorf("Retry-After not honoured: %+v", d.Attempts)
		}

		// Always failing: dead after the last attempt; retried by hand once the target is back.
		healthy.Store(false)
		down := h.CreateIntegration(map[string]any{"name": "down", "kind": "custom", "outboundUrl": rc.URL + "/down"})
		reply(t, h, startConversation(t, h, down, "r-3"), "x")
		d = waitDelivery(t, h, down.ID, "dead")
		if d.AttemptCount != 3 {
			t.Errorf("dead after %d attempts, want 3", d.AttemptCount)
		}
		healthy.Store(true)
		if r := h.Admin("POST", "/api/deliveries/"+d.ID+"/retry", nil); r.Status != http.StatusOK || r.Map(t)["status"] != "pending" {
			t.Fatalf("retry by hand: %d %s", r.Status, r.Body)
		}
		d = waitDelivery(t, h, down.ID, "succeeded")
		if d.AttemptCount != 4 || d.Attempts[3].StatusCode != 200 {
			t.Errorf("after the retry by hand: %+v", d)
		}
		if r := h.Admin("POST", "/api/deliveries/"+d.ID+"/retry", nil); r.Status != http.StatusConflict {
			t.Errorf("retrying a succeeded delivery: %d %s", r.Status, r.Body)
		}
	})
}

func TestBulkRetry(t *testing.T) {
	rc := apptest.NewReceiver(t)
	var healthy atomic.Bool
	rc.Respond = func(n int, r *apptest.Received) apptest.Reply {
		if !healthy.Load() {
			return apptest.Reply{Status: 500}
		}
		return apptest.Reply{Status: 200}
	}
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithRetrySchedule(0))
	in := h.CreateIntegration(map[string]any{"name": "bulk", "kind": "custom", "outboundUrl": rc.URL + "/bulk"})
	other := h.CreateIntegration(map[string]any{"name": "other", "kind": "custom", "outboundUrl": rc.URL + "/other"})
	conv := startConversation(t, h, in, "b-1")
	otherConv := startConversation(t, h, other, "b-2")
	for i := range 3 {
		reply(t, h, conv, fmt.Sprint("m", i))
	}
	reply(t, h, otherConv, "not retried")
	apptest.Eventually(t, 10*time.Second, func() error {
		if n := len(deliveries(t, h, "status=dead")); n != 4 {
			return fmt.Errorf("%d dead", n)
		}
		return nil
	})
	healthy.Store(true)
	for _, bad := range []map[string]any{{}, {"integrationId": in.ID, "status": "pending"}, {"integrationId": in.ID, "since": "2030-01-01T00:00:00Z", "until": "2020-01-01T00:00:00Z"}} {
		if r := h.Admin("POST", "/api/deliveries/retry", bad); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("bulk retry %v: %d %s", bad, r.Status, r.Body)
		}
	}
	// A window that excludes everything retries nothing.
	if r := h.Admin("POST", "/api/deliveries/retry", map[string]any{"integrationId": in.ID, "until": "2020-01-01T00:00:00Z"}); r.Map(t)["retried"] != float64(0) {
		t.Errorf("empty window: %s", r.Body)
	}
	r := h.Admin("POST", "/api/deliveries/retry", map[string]any{"integrationId": in.ID, "since": time.Now().Add(-time.Hour).Format(time.RFC3339)})
	if r.Status != http.StatusOK || r.Map(t)["retried"] != float64(3) {
		t.Fatalf("bulk retry: %d %s", r.Status, r.Body)
	}
	apptest.Eventually(t, 10*time.Second, func() error {
		if n := len(deliveries(t, h, "status=succeeded&integrationId="+in.ID)); n != 3 {
			return fmt.Errorf("%d succeeded", n)
		}
		return nil
	})
	if ds := deliveries(t, h, "integrationId="+other.ID); ds[0].Status != "dead" {
		t.Errorf("another integration's delivery was retried: %+v", ds[0])
	}
}

// TestConcurrentReplies posts agent replies from many clients at once, more
// than the database connection pool holds: every one is created and
// delivered, none answers with a locked database.
func TestConcurrentReplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc := apptest.NewReceiver(t)
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "busy", "kind": "custom", "outboundUrl": rc.URL + "/replies"})
		convs := make([]string, 4)
		for i := range convs {
			convs[i] = startConversation(t, h, in, fmt.Sprint("busy-", i))
		}
		// For longer than the planner's caches live, so some reply refreshes
		// them inside its transaction while the others wait.
		const clients = 24
		until := time.Now().Add(2500 * time.Millisecond)
		var wg sync.WaitGroup
		var sent atomic.Int64
		errs := make(chan string, clients)
		for c := range clients {
			wg.Go(func() {
				for i := 0; time.Now().Before(until); i++ {
					r := h.Admin("POST", "/api/conversations/"+convs[(c+i)%len(convs)]+"/messages", map[string]any{"content": fmt.Sprint("reply ", c, "-", i)})
					if r.Status != http.StatusCreated {
						errs <- fmt.Sprintf("%d %s", r.Status, r.Body)
						return
					}
					sent.Add(1)
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("reply: %s", e)
		}
		rc.WaitFor(t, int(sent.Load()), 30*time.Second)
	})
}

// TestHeaderVariableWithNewlineFails: a reply whose text reaches a header
// through a variable and carries a newline fails at once, saying which
// header, rather than being retried for hours.
func TestHeaderVariableWithNewlineFails(t *testing.T) {
	rc := apptest.NewReceiver(t)
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithRetrySchedule(0, time.Hour))
	in := h.CreateIntegration(map[string]any{"name": "hdr", "kind": "custom", "delivery": map[string]any{
		"url": rc.URL + "/hook", "headers": []map[string]string{{"key": "X-Text", "type": "variable", "value": "content"}}}})
	reply(t, h, startConversation(t, h, in, "hdr-1"), "line one\r\nInjected: yes")
	d := waitDelivery(t, h, in.ID, "failed")
	if !strings.Contains(d.LastError, "X-Text") || !strings.Contains(d.LastError, "not a valid HTTP header") {
		t.Errorf("lastError = %q, want it to name the header", d.LastError)
	}
	if n := len(rc.Requests()); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}
}
