package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/core/threads"
)

func openStore(t testing.TB, url string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

func msg(id, thread, extID, email, subject string) *domain.InboundMessage {
	return &domain.InboundMessage{
		ExternalID: id, ThreadExternalID: thread, Content: "hello " + id, ContentType: "text",
		Subject: subject, SentAt: time.Now().UTC(), Event: "MESSAGE",
		From: domain.Contact{ExternalID: extID, Email: email, Name: "N " + extID},
	}
}

func TestIngestThreadsAndDeduplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openStore(t, url)
		ws, err := s.EnsureWorkspace(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		in, err := s.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "app", Kind: "custom", Status: domain.StatusActive}, store.IntegrationSecrets{})
		if err != nil {
			t.Fatal(err)
		}
		item := func(m *domain.InboundMessage) store.IngestItem {
			return store.IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, Message: m}
		}
		res, err := s.Ingest(ctx, []store.IngestItem{
			item(msg("m1", "c1", "u1", "Jane@Example.com", "first subject")),
			item(msg("m2", "c1", "u1", "", "second subject")),
			item(msg("m1", "c1", "u1", "", "")), // repeat within the batch
			item(msg("m3", "c2", "u2", "jane@example.COM", "")),
			{WorkspaceID: ws.ID, IntegrationID: in.ID, Status: domain.EventSignatureFailure, EventType: domain.EventMessageReceived, Error: "bad key"},
		}, threads.NewService(s, nil, nil).Record)
		if err != nil {
			t.Fatalf("ingest: %v", err)
		}
		wantStatus := []string{"ok", "ok", "skip", "ok", "signature_failure"}
		for i, w := range wantStatus {
			if res[i].Status != w {
				t.Errorf("item %d status = %q, want %q", i, res[i].Status, w)
			}
		}
		if res[0].ConversationID != res[1].ConversationID || res[0].ConversationID == res[3].ConversationID {
			t.Errorf("threading wrong: %q %q %q", res[0].ConversationID, res[1].ConversationID, res[3].ConversationID)
		}
		// A later batch: m2 repeats across batches.
		res2, err := s.Ingest(ctx, []store.IngestItem{item(msg("m2", "c1", "u1", "", "")), item(msg("m4", "c1", "u9", "", "late subject"))}, threads.NewService(s, nil, nil).Record)
		if err != nil {
			t.Fatal(err)
		}
		if res2[0].Status != "skip" || res2[1].Status != "ok" || res2[1].ConversationID != res[0].ConversationID {
			t.Errorf("second batch = %+v", res2)
		}

		convs, _, err := s.Conversations(ctx, ws.ID, store.ConversationFilter{IntegrationID: in.ID}, domain.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(convs) != 2 {
			t.Fatalf("got %d conversations, want 2", len(convs))
		}
		byExt := map[string]domain.Conversation{}
		for _, c := range convs {
			byExt[c.ExternalID] = c
		}
		if got := byExt["c1"].Subject; got != "first subject" {
			t.Errorf("c1 subject = %q, want the first message's", got)
		}
		// c2 came from u2 with the same email, differently cased: same contact.
		if byExt["c1"].Contact.ID == "" || byExt["c1"].Contact.ID != byExt["c2"].Contact.ID {
			t.Errorf("contacts differ: %+v vs %+v", byExt["c1"].Contact, byExt["c2"].Contact)
		}
		msgs, _, err := s.Messages(ctx, ws.ID, byExt["c1"].ID, domain.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 3 {
			t.Errorf("c1 has %d messages, want 3 (m1, m2, m4)", len(msgs))
		}
		events, _, err := s.Events(ctx, ws.ID, in.ID, store.EventFilter{}, domain.Page{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 7 {
			t.Errorf("got %d events, want 7", len(events))
		}
		skips, _, _ := s.Events(ctx, ws.ID, in.ID, store.EventFilter{Status: "skip"}, domain.Page{})
		if len(skips) != 2 || skips[0].Error == "" {
			t.Errorf("skip events = %+v", skips)
		}
	})
}

func TestPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openStore(t, url)
		ws, _ := s.EnsureWorkspace(ctx, "acme")
		for i := 0; i < 7; i++ {
			if _, err := s.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "i", Kind: "custom", Status: "active"}, store.IntegrationSecrets{}); err != nil {
				t.Fatal(err)
			}
		}
		var all []string
		cursor := ""
		for pages := 0; ; pages++ {
			got, next, err := s.Integrations(ctx, ws.ID, domain.Page{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range got {
				all = append(all, in.ID)
			}
			if next == "" {
				if pages != 2 {
					t.Errorf("took %d pages, want 3", pages+1)
				}
				break
			}
			cursor = next
		}
		if len(all) != 7 {
			t.Fatalf("paged %d integrations, want 7", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i] >= all[i-1] {
				t.Errorf("not newest first at %d", i)
			}
		}
	})
}

// TestLastMessageAtOnlyMovesForward: a conversation's last activity is the
// newest message it has seen, whatever the order of a batch or of batches.
func TestLastMessageAtOnlyMovesForward(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openStore(t, url)
		ws, err := s.EnsureWorkspace(ctx, "order")
		if err != nil {
			t.Fatal(err)
		}
		in, err := s.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "app", Kind: "custom", Status: domain.StatusActive}, store.IntegrationSecrets{})
		if err != nil {
			t.Fatal(err)
		}
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		item := func(id, thread string, sentAt time.Time) store.IngestItem {
			m := msg(id, thread, "u", "", "")
			m.SentAt = sentAt
			return store.IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, ReceivedAt: time.Now().UTC(), Message: m}
		}
		last := func(thread string) time.Time {
			t.Helper()
			convs, _, err := s.Conversations(ctx, ws.ID, store.ConversationFilter{}, domain.Page{Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range convs {
				if c.ExternalID == thread {
					return c.LastMessageAt
				}
			}
			t.Fatalf("no conversation %s", thread)
			return time.Time{}
		}
		// Newest first within one batch.
		if _, err := s.Ingest(ctx, []store.IngestItem{item("a1", "a", base.Add(2*time.Minute)), item("a2", "a", base.Add(time.Minute))}, threads.NewService(s, nil, nil).Record); err != nil {
			t.Fatal(err)
		}
		if got := last("a"); !got.Equal(base.Add(2 * time.Minute)) {
			t.Errorf("batch in reverse order: last activity %v, want %v", got, base.Add(2*time.Minute))
		}
		// An older message in a later batch.
		if _, err := s.Ingest(ctx, []store.IngestItem{item("a3", "a", base)}, threads.NewService(s, nil, nil).Record); err != nil {
			t.Fatal(err)
		}
		if got := last("a"); !got.Equal(base.Add(2 * time.Minute)) {
			t.Errorf("older message later: last activity %v, want %v", got, base.Add(2*time.Minute))
		}
		// Batches of many conversations (the updates go 1, 8 or 64 at a
		// time, the last padded): each moves on to its own newest, or stays.
		for _, n := range []int{5, 70} {
			var items []store.IngestItem
			for i := range n {
				thread := fmt.Sprintf("many-%d-%d", n, i)
				items = append(items, item(thread+"-old", thread, base.Add(time.Duration(i)*time.Second)),
					item(thread+"-new", thread, base.Add(time.Hour+time.Duration(i)*time.Second)))
			}
			items = append(items, item("a4", "a", base.Add(time.Minute)))
			if _, err := s.Ingest(ctx, items, threads.NewService(s, nil, nil).Record); err != nil {
				t.Fatal(err)
			}
			for _, i := range []int{0, n / 2, n - 1} {
				want := base.Add(time.Hour + time.Duration(i)*time.Second)
				if got := last(fmt.Sprintf("many-%d-%d", n, i)); !got.Equal(want) {
					t.Errorf("batch of %d conversations: conversation %d's last activity %v, want %v", n, i, got, want)
				}
			}
			if got := last("a"); !got.Equal(base.Add(2 * time.Minute)) {
				t.Errorf("batch of %d conversations: an older message moved a conversation back to %v", n, got)
			}
		}
	})
}
