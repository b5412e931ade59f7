package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

type conversationJSON struct {
	ID            string `json:"id"`
	IntegrationID string `json:"integrationId"`
	ExternalID    string `json:"externalId"`
	Subject       string `json:"subject"`
	Status        string `json:"status"`
	LastMessageAt string `json:"lastMessageAt"`
	Contact       struct {
		ID, ExternalID, Name, Email, Phone string
	} `json:"contact"`
}

func conversations(t *testing.T, h *apptest.Hub, query string) []conversationJSON {
	t.Helper()
	r := h.Admin("GET", "/api/conversations"+query, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("conversations: %d %s", r.Status, r.Body)
	}
	var out struct{ Conversations []conversationJSON }
	r.JSON(t, &out)
	return out.Conversations
}

// TestRepeatedMessageIDNewConversation: a repeated messageId is skipped
// before anything is created, even under a new conversationId and sender.
func TestRepeatedMessageIDNewConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		h.PostCustom(in.ID, in.APIKey, `{"messageId":"m1","conversationId":"A","from":{"externalId":"u1"},"content":"one"}`)
		h.PostCustom(in.ID, in.APIKey, `{"messageId":"m1","conversationId":"B","from":{"externalId":"u2","email":"new@example.com"},"content":"again"}`)
		if ev := events(t, h, in.ID, "?limit=1"); ev[0].Status != "skip" {
			t.Fatalf("repeat = %+v, want skip", ev[0])
		}
		convs := conversations(t, h, "")
		if len(convs) != 1 || convs[0].ExternalID != "A" {
			t.Fatalf("conversations after a repeat = %+v, want only A", convs)
		}
		// No contact was made for the repeat's sender: a message from u2 is its first.
		h.PostCustom(in.ID, in.APIKey, `{"messageId":"m2","conversationId":"C","from":{"externalId":"u2"},"content":"two"}`)
		convs = conversations(t, h, "")
		if len(convs) != 2 || convs[0].Contact.Email != "" {
			t.Errorf("u2's contact = %+v, want one made by m2 without the repeat's email", convs[0].Contact)
		}
	})
}

// TestGetConversation: one conversation in the list's shape; another
// workspace's answers 404, as a missing one does.
func TestGetConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		h.PostCustom(in.ID, in.APIKey, seedExample)
		list := conversations(t, h, "")
		if len(list) != 1 {
			t.Fatalf("conversations = %+v", list)
		}
		r := h.Admin("GET", "/api/conversations/"+list[0].ID, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("get conversation: %d %s", r.Status, r.Body)
		}
		var one conversationJSON
		r.JSON(t, &one)
		if one != list[0] {
			t.Errorf("GET one = %+v, the list's item = %+v", one, list[0])
		}
		if one.Subject != "Need help with my order" || one.Contact.Email != "jane@example.com" || one.IntegrationID != in.ID {
			t.Errorf("conversation = %+v", one)
		}
		other := h.NewAdminToken("other")
		for _, path := range []string{"/api/conversations/" + list[0].ID, "/api/conversations/01a1fe7b-0000-7000-8000-000000000000"} {
			r := h.AdminAs(other, "GET", path, nil)
			if r.Status != http.StatusNotFound || r.Map(t)["error"] != "not_found" {
				t.Errorf("GET %s from another workspace = %d %s, want 404", path, r.Status, r.Body)
			}
		}
		if r := h.Do("GET", "/api/conversations/"+list[0].ID, nil, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("without a token: %d", r.Status)
		}
	})
}

// TestConversationsByLastActivity: the conversation with the newest message
// comes first, an agent's reply counting as activity, and paging follows
// the same order without losing or repeating any.
func TestConversationsByLastActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		post := func(msgID, conv, sentAt string) {
			t.Helper()
			h.PostCustom(in.ID, in.APIKey, `{"messageId":"`+msgID+`","conversationId":"`+conv+`","from":{"externalId":"u"},"content":"x","sentAt":"`+sentAt+`"}`)
			if ev := events(t, h, in.ID, "?limit=1"); ev[0].Status != "ok" {
				t.Fatalf("post %s: %+v", msgID, ev[0])
			}
		}
		post("1", "A", "2024-01-01T00:00:01Z")
		post("2", "B", "2024-01-01T00:00:02Z")
		post("3", "C", "2024-01-01T00:00:03Z")
		post("4", "A", "2024-01-01T00:00:04Z") // A is active again
		order := func(query string) []string {
			var ids []string
			for _, c := range conversations(t, h, query) {
				ids = append(ids, c.ExternalID)
			}
			return ids
		}
		if got := order(""); !equal(got, []string{"A", "C", "B"}) {
			t.Errorf("order = %v, want A C B (newest message first)", got)
		}
		// An agent's reply to B makes it the most recent.
		var b string
		for _, c := range conversations(t, h, "") {
			if c.ExternalID == "B" {
				b = c.ID
			}
		}
		if r := h.Admin("POST", "/api/conversations/"+b+"/messages", map[string]any{"content": "on it"}); r.Status != http.StatusCreated {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
		if got := order("?integrationId=" + in.ID); !equal(got, []string{"B", "A", "C"}) {
			t.Errorf("order after a reply to B = %v, want B A C", got)
		}
		// Paging one at a time walks the same order.
		var paged []string
		cursor := ""
		for range 5 {
			r := h.Admin("GET", "/api/conversations?limit=1"+cursor, nil)
			var page struct {
				Conversations []conversationJSON
				NextCursor    string
			}
			r.JSON(t, &page)
			for _, c := range page.Conversations {
				paged = append(paged, c.ExternalID)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = "&cursor=" + page.NextCursor
		}
		if !equal(paged, []string{"B", "A", "C"}) {
			t.Errorf("paged order = %v, want B A C", paged)
		}
		if r := h.Admin("GET", "/api/conversations?cursor=nonsense", nil); r.Status != http.StatusBadRequest {
			t.Errorf("bad cursor: %d %s", r.Status, r.Body)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestConversationIntegrations: the names of the workspace's integrations,
// newest first and paged, with nothing of their configuration; another
// workspace sees none of them.
func TestConversationIntegrations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		first := h.CreateIntegration(map[string]any{"name": "Support site", "kind": "custom",
			"outboundUrl": "https://hooks.example.com/secret-path"})
		second := h.CreateIntegration(map[string]any{"name": "Shop", "kind": "custom"})
		r := h.Admin("GET", "/api/conversations/integrations?limit=1", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		var page struct {
			Integrations []map[string]any `json:"integrations"`
			NextCursor   string           `json:"nextCursor"`
		}
		r.JSON(t, &page)
		if len(page.Integrations) != 1 || page.Integrations[0]["id"] != second.ID || page.Integrations[0]["name"] != "Shop" || page.NextCursor == "" {
			t.Fatalf("first page = %s", r.Body)
		}
		if len(page.Integrations[0]) != 2 {
			t.Errorf("an item holds more than id and name: %v", page.Integrations[0])
		}
		r = h.Admin("GET", "/api/conversations/integrations?limit=1&cursor="+page.NextCursor, nil)
		page.NextCursor = ""
		r.JSON(t, &page)
		if len(page.Integrations) != 1 || page.Integrations[0]["id"] != first.ID || page.NextCursor != "" {
			t.Errorf("second page = %s", r.Body)
		}
		for _, leak := range []string{"secret-path", "hooks.example.com", first.APIKey, "custom", "inboundUrl"} {
			if strings.Contains(string(r.Body), leak) {
				t.Errorf("the answer holds %q: %s", leak, r.Body)
			}
		}
		r = h.AdminAs(h.NewAdminToken("other"), "GET", "/api/conversations/integrations", nil)
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), "Support site") || strings.Contains(string(r.Body), first.ID) {
			t.Errorf("another workspace: %d %s", r.Status, r.Body)
		}
	})
}
