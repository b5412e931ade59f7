package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// seedExample is the request the custom webhook's documentation shows.
const seedExample = `{
  "messageId": "msg_01j9xk",
  "conversationId": "session_abc123",
  "from": {"externalId": "user_42", "name": "Jane Smith", "email": "jane@example.com"},
  "subject": "Need help with my order",
  "content": "Hi, I placed an order yesterday but haven't received a confirmation email."
}`

type event struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	EventType string `json:"eventType"`
	Error     string `json:"error"`
	CreatedAt string `json:"createdAt"`
}

func events(t *testing.T, h *apptest.Hub, integrationID, query string) []event {
	t.Helper()
	r := h.Admin("GET", "/api/integrations/"+integrationID+"/events"+query, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("events: %d %s", r.Status, r.Body)
	}
	var out struct{ Events []event }
	r.JSON(t, &out)
	return out.Events
}

func TestCustomWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "My App Webhook", "kind": "custom"})
		if !strings.HasPrefix(in.APIKey, "sbk_") || !strings.HasPrefix(in.ResponseToken, "sbr_") || in.Status != "active" {
			t.Fatalf("created integration = %+v", in)
		}
		if want := h.URL + "/api/webhooks/custom/" + in.ID; in.InboundURL != want {
			t.Errorf("inboundUrl = %q, want %q", in.InboundURL, want)
		}
		msg := func(id, extra string) string {
			return fmt.Sprintf(`{"messageId":%q,"conversationId":"c-%s","from":{"externalId":"u1"},"content":"hi"%s}`, id, id, extra)
		}

		tests := []struct {
			name       string
			headers    map[string]string
			body       string
			wantStatus string
			wantError  string // a substring of the event's error
		}{
			{name: "seed example", headers: map[string]string{"X-Api-Key": in.APIKey}, body: seedExample, wantStatus: "ok"},
			{name: "replay of the seed example", headers: map[string]string{"X-Api-Key": in.APIKey}, body: seedExample, wantStatus: "skip", wantError: "msg_01j9xk"},
			{name: "bearer key", headers: map[string]string{"Authorization": "Bearer " + in.APIKey}, body: msg("m-bearer", ""), wantStatus: "ok"},
			{name: "wrong key", headers: map[string]string{"X-Api-Key": "sbk_wrong"}, body: msg("m-wrong", ""), wantStatus: "signature_failure", wantError: "not valid"},
			{name: "missing key", body: msg("m-nokey", ""), wantStatus: "signature_failure", wantError: "missing"},
			{name: "admin token is not an API key", headers: map[string]string{"Authorization": "Bearer " + h.Token}, body: msg("m-admin", ""), wantStatus: "signature_failure"},
			{name: "missing content", headers: map[string]string{"X-Api-Key": in.APIKey}, body: `{"messageId":"x1","conversationId":"c","from":{"externalId":"u"}}`, wantStatus: "routing_error", wantError: "content"},
			{name: "missing from.externalId", headers: map[string]string{"X-Api-Key": in.APIKey}, body: `{"messageId":"x2","conversationId":"c","from":{},"content":"x"}`, wantStatus: "routing_error", wantError: "from.externalId"},
			{name: "bad contentType", headers: map[string]string{"X-Api-Key": in.APIKey}, body: msg("x3", `,"contentType":"pdf"`), wantStatus: "routing_error", wantError: "contentType"},
			{name: "bad sentAt", headers: map[string]string{"X-Api-Key": in.APIKey}, body: msg("x4", `,"sentAt":"noon"`), wantStatus: "routing_error", wantError: "sentAt"},
			{name: "not JSON", headers: map[string]string{"X-Api-Key": in.APIKey}, body: `messageId=1`, wantStatus: "routing_error", wantError: "JSON"},
			{name: "body too large", headers: map[string]string{"X-Api-Key": in.APIKey}, body: msg("x5", `,"subject":"`+strings.Repeat("a", 70<<10)+`"`), wantStatus: "routing_error", wantError: "exceeds"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := h.Do("POST", "/api/webhooks/custom/"+in.ID, tt.headers, tt.body)
				if r.Status != http.StatusOK || string(r.Body) != `"ok"` {
					t.Fatalf("answer = %d %s, want 200 \"ok\"", r.Status, r.Body)
				}
				ev := events(t, h, in.ID, "?limit=1")
				if len(ev) != 1 {
					t.Fatalf("no event logged")
				}
				if ev[0].Status != tt.wantStatus || !strings.Contains(ev[0].Error, tt.wantError) {
					t.Errorf("event = %+v, want status %s with error containing %q", ev[0], tt.wantStatus, tt.wantError)
				}
				if tt.wantStatus == "ok" && ev[0].Error != "" {
					t.Errorf("ok event has error %q", ev[0].Error)
				}
				for _, secret := range []string{in.APIKey, h.Token, "sbk_wrong"} {
					if strings.Contains(ev[0].Error, secret) {
						t.Errorf("event error leaks a key: %q", ev[0].Error)
					}
				}
			})
		}

		// The seed example is stored once, threaded and attributed.
		r := h.Admin("GET", "/api/conversations?integrationId="+in.ID, nil)
		var convs struct {
			Conversations []struct {
				ID, ExternalID, Subject, Status string
				Contact                         struct{ ID, ExternalID, Name, Email string }
			}
		}
		r.JSON(t, &convs)
		var seedConv string
		for _, c := range convs.Conversations {
			if c.ExternalID == "session_abc123" {
				seedConv = c.ID
				if c.Subject != "Need help with my order" || c.Contact.Name != "Jane Smith" || c.Contact.Email != "jane@example.com" || c.Contact.ExternalID != "user_42" {
					t.Errorf("seed conversation = %+v", c)
				}
			}
		}
		if seedConv == "" {
			t.Fatalf("seed conversation missing from %s", r.Body)
		}
		var msgs struct {
			Messages []struct{ ID, Direction, ExternalID, Content, ContentType, SentAt, Status string }
		}
		h.Admin("GET", "/api/conversations/"+seedConv+"/messages", nil).JSON(t, &msgs)
		if len(msgs.Messages) != 1 {
			t.Fatalf("seed conversation has %d messages, want exactly 1", len(msgs.Messages))
		}
		if m := msgs.Messages[0]; m.Direction != "inbound" || m.ExternalID != "msg_01j9xk" || m.ContentType != "text" || m.SentAt == "" {
			t.Errorf("message = %+v", m)
		}

		// Filtering the log by status.
		for _, ev := range events(t, h, in.ID, "?status=routing_error&limit=500") {
			if ev.Status != "routing_error" {
				t.Errorf("status filter let through %+v", ev)
			}
		}
		if r := h.Admin("GET", "/api/integrations/"+in.ID+"/events?status=bogus", nil); r.Status != http.StatusBadRequest {
			t.Errorf("bogus status filter: %d", r.Status)
		}
	})
}

func TestCustomWebhookStoppedAndRegenerated(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})

	// A stopped integration logs skip and stores nothing.
	if r := h.Admin("POST", "/api/integrations/"+in.ID+"/stop", nil); r.Status != http.StatusOK || r.Map(t)["status"] != "inactive" {
		t.Fatalf("stop: %d %s", r.Status, r.Body)
	}
	h.PostCustom(in.ID, in.APIKey, `{"messageId":"s1","conversationId":"c","from":{"externalId":"u"},"content":"x"}`)
	if ev := events(t, h, in.ID, "?limit=1"); ev[0].Status != "skip" || !strings.Contains(ev[0].Error, "stopped") {
		t.Errorf("stopped integration event = %+v", ev[0])
	}
	r := h.Admin("POST", "/api/integrations/"+in.ID+"/start", nil)
	if r.Status != http.StatusOK || r.Map(t)["status"] != "active" {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	if _, ok := r.Map(t)["connections"].([]any); !ok {
		t.Errorf("start answer has no connections list: %s", r.Body)
	}

	// Regenerating invalidates the old key at once.
	r = h.Admin("POST", "/api/integrations/"+in.ID+"/regenerate-key", nil)
	newKey, _ := r.Map(t)["apiKey"].(string)
	if r.Status != http.StatusOK || !strings.HasPrefix(newKey, "sbk_") || newKey == in.APIKey {
		t.Fatalf("regenerate: %d %s", r.Status, r.Body)
	}
	h.PostCustom(in.ID, in.APIKey, `{"messageId":"s2","conversationId":"c","from":{"externalId":"u"},"content":"x"}`)
	if ev := events(t, h, in.ID, "?limit=1"); ev[0].Status != "signature_failure" {
		t.Errorf("old key after regenerate: %+v", ev[0])
	}
	h.PostCustom(in.ID, newKey, `{"messageId":"s3","conversationId":"c","from":{"externalId":"u"},"content":"x"}`)
	if ev := events(t, h, in.ID, "?limit=1"); ev[0].Status != "ok" {
		t.Errorf("new key: %+v", ev[0])
	}
	// The key is never shown again.
	if strings.Contains(string(h.Admin("GET", "/api/integrations/"+in.ID, nil).Body), "sbk_") {
		t.Error("GET integration shows the API key")
	}

	// An unknown integration still answers "ok" and logs nothing anywhere.
	if r := h.PostCustom("01a1fe7b-0000-7000-8000-000000000000", newKey, `{}`); r.Status != http.StatusOK || string(r.Body) != `"ok"` {
		t.Errorf("unknown integration: %d %s", r.Status, r.Body)
	}
}

func TestThreadingAndContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		post := func(body string) {
			t.Helper()
			h.PostCustom(in.ID, in.APIKey, body)
			if ev := events(t, h, in.ID, "?limit=1"); ev[0].Status != "ok" {
				t.Fatalf("post %s: event %+v", body, ev[0])
			}
		}
		post(`{"messageId":"1","conversationId":"A","from":{"externalId":"ext-1","email":"Pat@Example.com","name":"Pat"},"subject":"first","content":"one"}`)
		post(`{"messageId":"2","conversationId":"A","from":{"externalId":"ext-1"},"subject":"ignored","content":"two","sentAt":"2030-01-02T03:04:05Z"}`)
		// Same email in another case, another external id: the same contact.
		post(`{"messageId":"3","conversationId":"B","from":{"externalId":"ext-2","email":"pat@EXAMPLE.com"},"content":"three"}`)
		// No email, known external id: the same contact.
		post(`{"messageId":"4","conversationId":"C","from":{"externalId":"ext-1"},"content":"four"}`)
		// Someone new.
		post(`{"messageId":"5","conversationId":"D","from":{"externalId":"ext-9"},"content":"five","contentType":"html"}`)

		var convs struct {
			Conversations []struct {
				ID, ExternalID, Subject, LastMessageAt string
				Contact                                struct{ ID string }
			}
		}
		h.Admin("GET", "/api/conversations?integrationId="+in.ID, nil).JSON(t, &convs)
		byExt := map[string]int{}
		for i, c := range convs.Conversations {
			byExt[c.ExternalID] = i
		}
		if len(convs.Conversations) != 4 {
			t.Fatalf("got %d conversations, want 4", len(convs.Conversations))
		}
		a, b, c, d := convs.Conversations[byExt["A"]], convs.Conversations[byExt["B"]], convs.Conversations[byExt["C"]], convs.Conversations[byExt["D"]]
		if a.Subject != "first" {
			t.Errorf("subject = %q, want the first message's", a.Subject)
		}
		if !strings.HasPrefix(a.LastMessageAt, "2030-01-02T03:04:05") {
			t.Errorf("lastMessageAt = %q, want the later sentAt", a.LastMessageAt)
		}
		if a.Contact.ID != b.Contact.ID || a.Contact.ID != c.Contact.ID {
			t.Errorf("contact not matched: A %s B %s C %s", a.Contact.ID, b.Contact.ID, c.Contact.ID)
		}
		if d.Contact.ID == a.Contact.ID {
			t.Error("a new sender was matched to an existing contact")
		}
		var msgs struct {
			Messages []struct{ Content, ContentType, SentAt string }
		}
		h.Admin("GET", "/api/conversations/"+a.ID+"/messages", nil).JSON(t, &msgs)
		if len(msgs.Messages) != 2 || msgs.Messages[0].Content != "two" || msgs.Messages[1].Content != "one" {
			t.Errorf("messages of A (newest first) = %+v", msgs.Messages)
		}
		h.Admin("GET", "/api/conversations/"+d.ID+"/messages", nil).JSON(t, &msgs)
		if msgs.Messages[0].ContentType != "html" {
			t.Errorf("html content type lost: %+v", msgs.Messages[0])
		}
	})
}
