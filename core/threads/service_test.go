package threads_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/core/threads"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// kinds declares an app kind, a widget kind that sends its own replies, a
// public kind whose replies the hub streams, and a channel with a 24-hour window.
type kinds struct{}

func (kinds) Info(kind string) (sdk.Info, bool) {
	switch kind {
	case "app":
		return sdk.Info{Kind: "app"}, true
	case "widget":
		return sdk.Info{Kind: "widget", Sends: true}, true
	case "public":
		return sdk.Info{Kind: "public", Auth: sdk.AuthPublic}, true
	}
	return sdk.Info{}, false
}

func (kinds) ByChannel(channel string) (sdk.Info, bool) {
	switch channel {
	case "WINDOWED":
		return sdk.Info{Kind: "windowed", Channel: channel, Sends: true, ReplyWindow: 24 * time.Hour}, true
	case "OPEN":
		return sdk.Info{Kind: "open", Channel: channel, Sends: true}, true
	}
	return sdk.Info{}, false
}

func TestRouteAndWindow(t *testing.T) {
	s := threads.NewService(nil, kinds{}, nil)
	for _, tc := range []struct {
		name string
		kind string
		conv domain.Conversation
		want domain.Route
	}{
		{"an app's thread", "app", domain.Conversation{}, domain.Route{Channel: "app"}},
		{"a widget's chat", "widget", domain.Conversation{}, domain.Route{Channel: "widget", Chat: true}},
		{"a public kind's chat, answered live by the hub", "public", domain.Conversation{}, domain.Route{Channel: "public", Chat: true}},
		{"a chat on a connection", "app", domain.Conversation{ConnectionID: "c", Channel: "OPEN"}, domain.Route{Channel: "OPEN", Chat: true}},
		{"a kind no plugin declares", "gone", domain.Conversation{}, domain.Route{Channel: "gone"}},
	} {
		if got := s.Route(domain.Integration{Kind: tc.kind}, tc.conv); got != tc.want {
			t.Errorf("%s: route %+v, want %+v", tc.name, got, tc.want)
		}
	}
	now := time.Now()
	at := func(d time.Duration) domain.Conversation {
		t := now.Add(-d)
		return domain.Conversation{LastInboundAt: &t}
	}
	for _, tc := range []struct {
		name    string
		channel string
		conv    domain.Conversation
		open    bool
	}{
		{"no window", "OPEN", domain.Conversation{}, true},
		{"unknown channel", "PIGEON", domain.Conversation{}, true},
		{"never wrote", "WINDOWED", domain.Conversation{}, false},
		{"wrote an hour ago", "WINDOWED", at(time.Hour), true},
		{"wrote 23h59m ago", "WINDOWED", at(24*time.Hour - time.Minute), true},
		{"wrote 24h ago", "WINDOWED", at(24 * time.Hour), false},
		{"wrote 25h ago", "WINDOWED", at(25 * time.Hour), false},
	} {
		if got := s.WindowOpen(tc.channel, tc.conv, now); got != tc.open {
			t.Errorf("%s: open = %v, want %v", tc.name, got, tc.open)
		}
	}
}

// TestChatsReopenAppThreadsDoNot: after its end, a contact's next message
// opens a new chat; an app's thread keeps taking its messages.
func TestChatsReopenAppThreadsDoNot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		st, err := store.Open(ctx, url, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		s := threads.NewService(st, kinds{}, nil)
		ws, _ := st.EnsureWorkspace(ctx, "w")
		in, err := st.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "i", Kind: "app", Status: domain.StatusActive}, store.IntegrationSecrets{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		record := func(chat bool, thread string) string {
			t.Helper()
			n++
			it := store.IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, Channel: "app", Chat: chat,
				Message: &domain.InboundMessage{ExternalID: "m" + string(rune('a'+n)), ThreadExternalID: thread, Content: "x",
					ContentType: "text", SentAt: time.Now().UTC(), From: domain.Contact{ExternalID: thread, Phone: thread}}}
			if chat {
				it.Channel, it.ConnectionID, it.Sender = "OPEN", "conn-1", "5550001"
			}
			res, err := st.Ingest(ctx, []store.IngestItem{it}, s.Record)
			if err != nil || res[0].Status != domain.EventOK {
				t.Fatalf("record: %+v, %v", res, err)
			}
			return res[0].ConversationID
		}
		chat := record(true, "+1555")
		if again := record(true, "+1555"); again != chat {
			t.Errorf("an open chat was not reused")
		}
		c, err := st.Conversation(ctx, ws.ID, chat)
		if err != nil || c.ConnectionID != "conn-1" || c.Channel != "OPEN" || c.Sender != "5550001" || c.LastInboundAt == nil {
			t.Fatalf("chat = %+v, %v", c, err)
		}
		stale, err := st.Conversation(ctx, ws.ID, chat)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.End(ctx, ws.ID, chat, domain.Route{Channel: "OPEN", Chat: true}); err != nil {
			t.Fatal(err)
		}
		// A reply decided on a copy read before the end loses to it.
		if _, _, err := s.Reply(ctx, stale, domain.Route{Channel: "OPEN", Chat: true}, "too late"); err != store.ErrConflict {
			t.Errorf("a reply after the end: %v, want ErrConflict", err)
		}
		if _, _, err := s.End(ctx, ws.ID, chat, domain.Route{Channel: "OPEN", Chat: true}); err != store.ErrConflict {
			t.Errorf("ending an ended chat: %v, want ErrConflict", err)
		}
		if next := record(true, "+1555"); next == chat {
			t.Errorf("a message after the chat ended joined the ended chat")
		}

		app := record(false, "session-1")
		if _, _, err := s.End(ctx, ws.ID, app, domain.Route{Channel: "app"}); err != nil {
			t.Fatal(err)
		}
		if next := record(false, "session-1"); next != app {
			t.Errorf("an app's thread changed after its end: the app names it")
		}
	})
}
