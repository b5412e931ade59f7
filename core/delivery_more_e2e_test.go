package core_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"context"
	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// flakyReceiver answers 500 to the first failures deliveries of one content,
// and records the contents it accepts, in order.
type flakyReceiver struct {
	mu       sync.Mutex
	content  string
	left     int
	accepted []string
}

func newFlakyReceiver(t *testing.T, content string, failures int) (*apptest.Receiver, *flakyReceiver) {
	rc := apptest.NewReceiver(t)
	fr := &flakyReceiver{content: content, left: failures}
	rc.Respond = func(n int, r *apptest.Received) apptest.Reply {
		var body struct{ Content string }
		json.Unmarshal(r.Body, &body)
		fr.mu.Lock()
		defer fr.mu.Unlock()
		if body.Content == fr.content && fr.left > 0 {
			fr.left--
			return apptest.Reply{Status: 500}
		}
		fr.accepted = append(fr.accepted, body.Content)
		return apptest.Reply{}
	}
	return rc, fr
}

// waitAccepted waits until n contents were accepted and returns them.
func (fr *flakyReceiver) waitAccepted(t *testing.T, n int, timeout time.Duration) []string {
	t.Helper()
	var got []string
	apptest.Eventually(t, timeout, func() error {
		fr.mu.Lock()
		defer fr.mu.Unlock()
		if len(fr.accepted) != n {
			return fmt.Errorf("accepted %v", fr.accepted)
		}
		got = append([]string(nil), fr.accepted...)
		return nil
	})
	return got
}

func (fr *flakyReceiver) failuresLeft() int {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return fr.left
}

func TestOrderedDeliveryPerConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc, fr := newFlakyReceiver(t, "A1", 2)
		h := apptest.Start(t, dbURL, apptest.WithRetrySchedule(0, 400*time.Millisecond, 400*time.Millisecond, time.Second))
		in := h.CreateIntegration(map[string]any{"name": "ordered", "kind": "custom", "outboundUrl": rc.URL + "/chat"})
		a := startConversation(t, h, in, "A")
		b := startConversation(t, h, in, "B")
		for _, m := range []struct{ conv, content string }{{a, "A1"}, {a, "A2"}, {b, "B1"}, {a, "A3"}, {b, "B2"}} {
			reply(t, h, m.conv, m.content)
		}
		accepted := fr.waitAccepted(t, 5, 15*time.Second)
		pos := map[string]int{}
		for i, c := range accepted {
			pos[c] = i
		}
		if !(pos["A1"] < pos["A2"] && pos["A2"] < pos["A3"]) {
			t.Errorf("conversation A out of order: %v", accepted)
		}
		if !(pos["B1"] < pos["B2"]) {
			t.Errorf("conversation B out of order: %v", accepted)
		}
		// B is not held up while A's first delivery is being retried.
		if !(pos["B1"] < pos["A1"] && pos["B2"] < pos["A1"]) {
			t.Errorf("conversation B waited for A: %v", accepted)
		}
		if left := fr.failuresLeft(); left != 0 {
			t.Errorf("A1 failed %d times, want 2", 2-left)
		}
	})
}

func TestUnorderedDelivery(t *testing.T) {
	rc, fr := newFlakyReceiver(t, "A1", 2)
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithRetrySchedule(0, 400*time.Millisecond, 400*time.Millisecond))
	in := h.CreateIntegration(map[string]any{"name": "unordered", "kind": "custom", "delivery": map[string]any{"url": rc.URL + "/u", "ordered": false}})
	a := startConversation(t, h, in, "A")
	reply(t, h, a, "A1")
	reply(t, h, a, "A2")
	accepted := fr.waitAccepted(t, 2, 10*time.Second)
	// Without ordering, A2 does not wait for A1's retries.
	if accepted[0] != "A2" || accepted[1] != "A1" {
		t.Errorf("accepted %v, want A2 before the retried A1", accepted)
	}
}

func TestSubscriptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc := apptest.NewReceiver(t)
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})

		// Create, list, get, update, delete, as the subscriptions API spells them.
		r := h.Admin("POST", "/api/webhooks/", map[string]any{"url": rc.URL + "/all", "enabled": true,
			"subscribedEvents": []string{"messages", "transfers"}, "extraHeaders": []map[string]string{{"name": "Authorization", "value": "Bearer your-secret"}}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var all struct {
			ID, URL, Secret  string
			Enabled          bool
			SubscribedEvents []string
			ExtraHeaders     []struct{ Name, Value string }
		}
		r.JSON(t, &all)
		if all.ID == "" || !all.Enabled || len(all.SubscribedEvents) != 2 || all.ExtraHeaders[0].Name != "Authorization" || !strings.HasPrefix(all.Secret, "whsec_") {
			t.Fatalf("created = %s", r.Body)
		}
		r = h.Admin("POST", "/api/webhooks", map[string]any{"url": rc.URL + "/legacy", "subscribedEvents": []string{"messages", "transfers"}, "format": "legacy"})
		legacyID := r.Map(t)["id"].(string)
		r = h.Admin("POST", "/api/webhooks/", map[string]any{"url": rc.URL + "/gone", "subscribedEvents": []string{"messages"}})
		goneID := r.Map(t)["id"].(string)

		for _, bad := range []map[string]any{
			{"subscribedEvents": []string{"messages"}},
			{"url": rc.URL, "subscribedEvents": []string{"reactions"}},
			{"url": rc.URL},
			{"url": rc.URL, "subscribedEvents": []string{"messages"}, "extraHeaders": []map[string]string{{"name": "bad header", "value": "x"}}},
			{"url": rc.URL, "subscribedEvents": []string{"messages"}, "format": "xml"},
		} {
			if r := h.Admin("POST", "/api/webhooks/", bad); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("create %v: %d %s", bad, r.Status, r.Body)
			}
		}
		var list struct{ Webhooks []struct{ ID string } }
		h.Admin("GET", "/api/webhooks/", nil).JSON(t, &list)
		if len(list.Webhooks) != 3 {
			t.Errorf("list: %d webhooks", len(list.Webhooks))
		}
		if r := h.Admin("GET", "/api/webhooks/"+all.ID, nil); r.Status != 200 || strings.Contains(string(r.Body), "whsec_") {
			t.Errorf("get: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("POST", "/api/webhooks/"+goneID+"/update", map[string]any{"enabled": false}); r.Status != 200 || r.Map(t)["enabled"] != false || r.Map(t)["url"] != rc.URL+"/gone" {
			t.Errorf("partial update: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("POST", "/api/webhooks/"+goneID+"/delete", nil); r.Status != 200 {
			t.Errorf("delete: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("GET", "/api/webhooks/"+goneID, nil); r.Status != 404 {
			t.Errorf("deleted webhook: %d", r.Status)
		}
		other := h.NewAdminToken("elsewhere")
		if r := h.AdminAs(other, "POST", "/api/webhooks/"+all.ID+"/update", map[string]any{"enabled": false}); r.Status != 404 {
			t.Errorf("another workspace updated a webhook: %d", r.Status)
		}
		if r := h.Do("POST", "/api/webhooks/"+all.ID+"/delete", nil, nil); r.Status != 401 {
			t.Errorf("delete without a token: %d", r.Status)
		}

		// A received message, an agent reply and a transfer.
		conv := startConversation(t, h, in, "s-1")
		reply(t, h, conv, "agent says hi")
		team := h.Admin("POST", "/api/teams", map[string]any{"name": "Support Team"}).Map(t)
		if r := h.Admin("POST", "/api/conversations/"+conv+"/transfer", map[string]any{"teamId": team["id"]}); r.Status != 200 || r.Map(t)["teamId"] != team["id"] {
			t.Fatalf("transfer: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("POST", "/api/conversations/"+conv+"/transfer", map[string]any{"teamId": "nope"}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("transfer to an unknown team: %d", r.Status)
		}

		// /all gets 2 messages + 1 transfer; /legacy gets the 2 messages only; /gone nothing.
		rc.WaitFor(t, 5, 10*time.Second)
		time.Sleep(200 * time.Millisecond)
		byPath := map[string][]apptest.Received{}
		for _, got := range rc.Requests() {
			byPath[got.Path] = append(byPath[got.Path], got)
		}
		if len(byPath["/all"]) != 3 || len(byPath["/legacy"]) != 2 || len(byPath["/gone"]) != 0 {
			t.Fatalf("received: all %d, legacy %d, gone %d", len(byPath["/all"]), len(byPath["/legacy"]), len(byPath["/gone"]))
		}
		var events []map[string]any
		for _, got := range byPath["/all"] {
			if got.Header.Get("Authorization") != "Bearer your-secret" {
				t.Errorf("extraHeaders not sent: %v", got.Header)
			}
			if err := verifyStandardWebhook(all.Secret, got.Header, got.Body); err != nil {
				t.Errorf("signature: %v", err)
			}
			var ev map[string]any
			json.Unmarshal(got.Body, &ev)
			events = append(events, ev)
		}
		kinds := map[string]int{}
		for _, ev := range events {
			kinds[ev["eventType"].(string)]++
			if ts, ok := ev["timestamp"].(float64); !ok || ts < 1e12 {
				t.Errorf("timestamp is not in milliseconds: %v", ev["timestamp"])
			}
			data := ev["data"].(map[string]any)
			switch ev["eventType"] {
			case "message":
				for _, k := range []string{"fromCustomer", "invisible", "customerThreadId", "organizationId", "customerId", "messageId", "messageBody", "messageTimestamp", "channel"} {
					if _, ok := data[k]; !ok {
						t.Errorf("message data lacks %s: %v", k, data)
					}
				}
				if data["customerThreadId"] != conv {
					t.Errorf("customerThreadId = %v", data["customerThreadId"])
				}
			case "transfer":
				if data["newBusinessId"] != team["id"] || data["newBusinessName"] != "Support Team" || data["customerThreadId"] != conv || data["previousBusinessId"] != nil {
					t.Errorf("transfer data = %v", data)
				}
			}
		}
		if kinds["message"] != 2 || kinds["transfer"] != 1 {
			t.Errorf("event kinds = %v", kinds)
		}
		fromCustomer := map[bool]string{}
		for _, got := range byPath["/legacy"] {
			var flat map[string]any
			json.Unmarshal(got.Body, &flat)
			if _, nested := flat["data"]; nested || flat["messageBody"] == nil || flat["customerThreadId"] != conv {
				t.Errorf("legacy payload = %s", got.Body)
			}
			fromCustomer[flat["fromCustomer"].(bool)] = flat["messageBody"].(string)
		}
		if fromCustomer[true] != "hi" || fromCustomer[false] != "agent says hi" {
			t.Errorf("legacy messages = %v", fromCustomer)
		}
		_ = legacyID
	})
}

func TestTargetDisabledAfterContinuousFailure(t *testing.T) {
	rc := apptest.NewReceiver(t)
	rc.Respond = func(int, *apptest.Received) apptest.Reply { return apptest.Reply{Status: 500} }
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithDisableAfter(400*time.Millisecond),
		apptest.WithRetrySchedule(0, 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond, time.Hour))
	in := h.CreateIntegration(map[string]any{"name": "failing", "kind": "custom", "outboundUrl": rc.URL + "/x"})
	conv := startConversation(t, h, in, "d-1")
	reply(t, h, conv, "first")
	apptest.Eventually(t, 10*time.Second, func() error {
		for _, ev := range events(t, h, in.ID) {
			if ev.EventType == "delivery.target_disabled" && ev.Status == "routing_error" && strings.Contains(ev.Error, "failed since") {
				return nil
			}
		}
		return fmt.Errorf("no target_disabled event yet")
	})
	if r := h.Admin("GET", "/api/integrations/"+in.ID, nil); r.Map(t)["deliveryDisabled"] != true {
		t.Errorf("integration not shown disabled: %s", r.Body)
	}
	if ds := deliveries(t, h, "integrationId="+in.ID); ds[0].Status != "failed" {
		t.Errorf("pending delivery of a disabled target: %+v", ds[0])
	}
	// New replies are kept, failed, until the target is fixed.
	reply(t, h, conv, "second")
	apptest.Eventually(t, 5*time.Second, func() error {
		ds := deliveries(t, h, "integrationId="+in.ID+"&status=failed")
		if len(ds) != 2 {
			return fmt.Errorf("%d failed", len(ds))
		}
		return nil
	})
	// Pointing the integration at a working target enables it again.
	ok := apptest.NewReceiver(t)
	if r := h.Admin("PATCH", "/api/integrations/"+in.ID, map[string]any{"outboundUrl": ok.URL + "/fixed"}); r.Status != 200 || r.Map(t)["deliveryDisabled"] != false {
		t.Fatalf("re-enable: %d %s", r.Status, r.Body)
	}
	h.Admin("POST", "/api/deliveries/retry", map[string]any{"integrationId": in.ID})
	got := ok.WaitFor(t, 2, 10*time.Second)
	if len(got) != 2 {
		t.Errorf("after re-enabling, %d delivered", len(got))
	}
}

type eventEntry struct{ Status, EventType, Error string }

func events(t *testing.T, h *apptest.Hub, integrationID string) []eventEntry {
	var out struct{ Events []eventEntry }
	h.Admin("GET", "/api/integrations/"+integrationID+"/events?limit=500", nil).JSON(t, &out)
	return out.Events
}

func TestTransformTestEndpointAndValidation(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithoutPrivateTargets())
	in := h.CreateIntegration(map[string]any{"name": "t", "kind": "custom", "delivery": map[string]any{
		"url":  "https://hooks.example.com/in",
		"auth": map[string]any{"type": "bearer", "token": "very-secret"},
		"body": []map[string]any{{"key": "text", "type": "variable", "value": "content"}},
	}})
	if strings.Contains(string(h.Admin("GET", "/api/integrations/"+in.ID, nil).Body), "very-secret") {
		t.Error("GET integration shows the bearer token")
	}
	r := h.Admin("POST", "/api/integrations/"+in.ID+"/transform/test", map[string]any{
		"script": "function transform(request, event) {\n  console.log('to', event.conversationId);\n  request.body.extra = event['contact.name'];\n  return request;\n}",
		"event":  map[string]string{"conversationId": "c-42", "content": "hello"},
	})
	if r.Status != 200 {
		t.Fatalf("transform test: %d %s", r.Status, r.Body)
	}
	var res struct {
		Request struct {
			Method, URL string
			Headers     map[string]string
			Body        map[string]any
		}
		Logs  []string
		Error string
		Curl  string
	}
	r.JSON(t, &res)
	if res.Request.Method != "POST" || res.Request.URL != "https://hooks.example.com/in" || res.Request.Body["text"] != "hello" || res.Request.Body["extra"] != "Jane Smith" {
		t.Errorf("request = %+v", res.Request)
	}
	if len(res.Logs) != 1 || res.Logs[0] != "to c-42" || res.Error != "" {
		t.Errorf("logs %q error %q", res.Logs, res.Error)
	}
	if strings.Contains(string(r.Body), "very-secret") || res.Request.Headers["Authorization"] != "********" {
		t.Errorf("transform test leaks the token: %s", r.Body)
	}
	if !strings.HasPrefix(res.Curl, "curl -X POST 'https://hooks.example.com/in'") || !strings.Contains(res.Curl, `--data-raw '{"extra":"Jane Smith","text":"hello"}'`) {
		t.Errorf("curl = %s", res.Curl)
	}
	r = h.Admin("POST", "/api/integrations/"+in.ID+"/transform/test", map[string]any{"script": "function transform(r, e) {\n\n  throw new Error('nope');\n}"})
	r.JSON(t, &res)
	if !strings.Contains(res.Error, "Error: nope") || !strings.Contains(res.Error, "line 3") {
		t.Errorf("error = %q", res.Error)
	}
	// A nested event is read with dotted names; keys that are not variables still reach the script.
	r = h.Admin("POST", "/api/integrations/"+in.ID+"/transform/test", map[string]any{
		"script": "function transform(r, e) { r.body = [e['contact.name'], e.custom, e.count]; return r; }",
		"event":  map[string]any{"contact": map[string]any{"name": "Ana"}, "custom": "x", "count": 3}})
	var nested struct{ Request struct{ Body []string } }
	r.JSON(t, &nested)
	if r.Status != 200 || len(nested.Request.Body) != 3 || nested.Request.Body[0] != "Ana" || nested.Request.Body[1] != "x" || nested.Request.Body[2] != "3" {
		t.Errorf("nested event: %d %s", r.Status, r.Body)
	}

	// Saving validates: 422 naming the field.
	for _, tt := range []struct {
		delivery map[string]any
		field    string
	}{
		{map[string]any{"url": "https://x.example.com", "body": []map[string]any{{"key": "a", "type": "variable", "value": "phoneNumber"}}}, "delivery.body[0].value"},
		{map[string]any{"url": "https://x.example.com", "headers": []map[string]any{{"key": "X", "type": "text", "value": "<<nope>>"}}}, "delivery.headers[0].value"},
		{map[string]any{"url": "http://127.0.0.1/x"}, "delivery.url"},
		{map[string]any{"url": "https://x.example.com", "method": "PATCH"}, "delivery.method"},
		{map[string]any{"url": "https://x.example.com", "transform": "function transform(r, e) {"}, "delivery.transform"},
		{map[string]any{"url": "https://x.example.com", "params": []map[string]any{{"key": "a", "type": "text", "value": "1"}, {"key": "a", "type": "text", "value": "2"}}}, "delivery.params[1].key"},
	} {
		r := h.Admin("PATCH", "/api/integrations/"+in.ID, map[string]any{"delivery": tt.delivery})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Map(t)["message"].(string), tt.field) {
			t.Errorf("delivery %v: %d %s, want 422 naming %s", tt.delivery, r.Status, r.Body, tt.field)
		}
	}
	// An update that sends the redacted token back keeps the stored one
	// (TestRedactAndKeepSecrets checks the stored value).
	r = h.Admin("PATCH", "/api/integrations/"+in.ID, map[string]any{"delivery": map[string]any{
		"url": "https://hooks.example.com/v2", "auth": map[string]any{"type": "bearer", "token": "********"}}})
	if r.Status != 200 {
		t.Fatalf("patch with redacted token: %d %s", r.Status, r.Body)
	}
	// A test run sees placeholders, never the stored secrets: not in the
	// script's request, not in what it prints.
	basic := base64.StdEncoding.EncodeToString([]byte("ops:basic-pass-123"))
	for _, auth := range []map[string]any{
		{"type": "bearer", "token": "********"},
		{"type": "basic", "username": "ops", "password": "basic-pass-123"},
		{"type": "apiKey", "header": "X-Key", "value": "basic-pass-123"},
	} {
		r = h.Admin("PATCH", "/api/integrations/"+in.ID, map[string]any{"delivery": map[string]any{"url": "https://hooks.example.com/v2", "auth": auth}})
		if r.Status != 200 {
			t.Fatalf("patch %v: %d %s", auth, r.Status, r.Body)
		}
		r = h.Admin("POST", "/api/integrations/"+in.ID+"/transform/test", map[string]any{
			"script": "function transform(r, e) { console.log(r.headers); r.body = r.headers; return r; }"})
		body := string(r.Body)
		if r.Status != 200 || strings.Contains(body, "very-secret") || strings.Contains(body, "basic-pass-123") || strings.Contains(body, basic) {
			t.Errorf("transform test with %s auth shows a stored secret: %d %s", auth["type"], r.Status, body)
		}
		if !strings.Contains(body, "********") {
			t.Errorf("transform test with %s auth shows no placeholder: %s", auth["type"], body)
		}
	}
}

func TestSigningSecretRotationSignsWithBoth(t *testing.T) {
	rc := apptest.NewReceiver(t)
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "rot", "kind": "custom", "outboundUrl": rc.URL + "/r"})
	old := h.Admin("GET", "/api/integrations/"+in.ID+"/signing-secret", nil).Map(t)["secret"].(string)
	conv := startConversation(t, h, in, "rot-1")
	reply(t, h, conv, "before")
	before := rc.WaitFor(t, 1, 5*time.Second)[0]
	if n := len(strings.Fields(before.Header.Get("webhook-signature"))); n != 1 {
		t.Errorf("before rotation: %d signatures", n)
	}
	newer := h.Admin("POST", "/api/integrations/"+in.ID+"/signing-secret/rotate", nil).Map(t)["secret"].(string)
	reply(t, h, conv, "after")
	after := rc.WaitFor(t, 2, 5*time.Second)[1]
	if n := len(strings.Fields(after.Header.Get("webhook-signature"))); n != 2 {
		t.Errorf("during the overlap: %d signatures, want 2", n)
	}
	for name, secret := range map[string]string{"old": old, "new": newer} {
		if err := verifyStandardWebhook(secret, after.Header, after.Body); err != nil {
			t.Errorf("the %s secret does not verify a delivery during the overlap: %v", name, err)
		}
	}
	if err := verifyStandardWebhook("whsec_"+strings.Repeat("A", 44), after.Header, after.Body); err == nil {
		t.Error("a wrong secret verified")
	}
}

// TestShutdownReleasesUnsentClaims: a hub stopped in the middle of a
// backlog finishes the attempts in flight and gives back, at once, the
// claims it took but never attempted, so its successor sends them without
// waiting out their lease.
func TestShutdownReleasesUnsentClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		const concurrency = 2
		rc := apptest.NewReceiver(t)
		unblock := make(chan struct{})
		var once sync.Once
		release := func() { once.Do(func() { close(unblock) }) }
		defer release()
		rc.Respond = func(int, *apptest.Received) apptest.Reply { <-unblock; return apptest.Reply{} }
		h := apptest.Start(t, dbURL, func(c *config.Config) {
			c.DeliveryConcurrency, c.DeliveryTargetConcurrency = concurrency, concurrency
		})
		in := h.CreateIntegration(map[string]any{"name": "backlog", "kind": "custom", "outboundUrl": rc.URL + "/hook"})
		for i := range 8 {
			reply(t, h, startConversation(t, h, in, fmt.Sprint("backlog-", i)), "x")
		}
		// Two attempts in flight (the receiver holds them), two more claimed
		// into the worker's queue.
		rc.WaitFor(t, concurrency, 10*time.Second)
		ctx := context.Background()
		ws, err := h.App.Store.EnsureWorkspace(ctx, "test")
		if err != nil {
			t.Fatal(err)
		}
		leased := func() (n int) {
			ds, _, err := h.App.Store.Deliveries(ctx, ws.ID, store.DeliveryFilter{IntegrationID: in.ID, Status: "pending"}, domain.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if time.Until(d.NextAttemptAt) > 5*time.Second { // a claim's lease, not a retry due now
					n++
				}
			}
			return n
		}
		apptest.Eventually(t, 5*time.Second, func() error {
			if n := leased(); n != 2*concurrency {
				return fmt.Errorf("%d claimed", n)
			}
			return nil
		})

		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stopped <- h.App.Shutdown(ctx)
		}()
		// Only the attempts in flight still hold their claims.
		apptest.Eventually(t, 5*time.Second, func() error {
			if n := leased(); n != concurrency {
				return fmt.Errorf("%d deliveries still claimed during shutdown, want the %d in flight", n, concurrency)
			}
			return nil
		})
		release()
		if err := <-stopped; err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		if got := len(rc.Requests()); got != concurrency {
			t.Errorf("the stopping hub sent %d, want only the %d in flight", got, concurrency)
		}

		// Its successor sends the rest now, not after the lease.
		next := apptest.Start(t, dbURL)
		apptest.Eventually(t, 5*time.Second, func() error {
			if got := len(rc.Requests()); got != 8 {
				return fmt.Errorf("receiver has %d of 8", got)
			}
			return nil
		})
		_ = next
	})
}
