package httpapi_test

import (
	"net/http"
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
