package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestIngestIsolatesAFailingItem: one item the database refuses fails
// alone; the valid items of its batch, another workspace's among them, all
// commit, threads and contacts included.
func TestIngestIsolatesAFailingItem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openMigrated(t, url)
		storetest.PoisonMessages(t, url)
		var ints [2]domain.Integration
		for i, name := range []string{"hostile", "victim"} {
			ws, err := s.EnsureWorkspace(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			ints[i], err = s.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: name, Kind: "custom", Status: domain.StatusActive}, IntegrationSecrets{})
			if err != nil {
				t.Fatal(err)
			}
		}
		item := func(in domain.Integration, id, thread, content string) IngestItem {
			return IngestItem{WorkspaceID: in.WorkspaceID, IntegrationID: in.ID, Channel: "custom", Message: &domain.InboundMessage{
				ExternalID: id, ThreadExternalID: thread, Content: content, ContentType: "text", SentAt: time.Now().UTC(),
				From: domain.Contact{ExternalID: "from-" + thread}}}
		}
		items := []IngestItem{
			item(ints[1], "v1", "t1", "fine"),
			item(ints[0], "h1", "bad-thread", "poison"),
			item(ints[1], "v2", "t1", "fine"),
			{WorkspaceID: ints[1].WorkspaceID, IntegrationID: ints[1].ID, Status: domain.EventSignatureFailure, Error: "bad key"},
			item(ints[1], "v3", "t2", "fine"),
		}
		ing, err := s.NewIngester(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer ing.Close()
		res, errs := ing.IngestEach(ctx, items, plainRecorder)
		want := []string{"ok", "", "ok", "signature_failure", "ok"}
		for i, w := range want {
			if w == "" {
				if errs[i] == nil {
					t.Errorf("item %d: the poisoned item did not fail", i)
				}
				continue
			}
			if errs[i] != nil || res[i].Status != w {
				t.Errorf("item %d = %+v, %v; want %s", i, res[i], errs[i], w)
			}
		}
		// The victim's messages are stored and threaded; the poisoned item left nothing.
		convs, _, err := s.Conversations(ctx, ints[1].WorkspaceID, ConversationFilter{}, domain.Page{})
		if err != nil || len(convs) != 2 {
			t.Fatalf("victim conversations = %d (%v), want 2", len(convs), err)
		}
		if res[0].ConversationID != res[2].ConversationID {
			t.Errorf("v1 and v2 threaded apart: %s %s", res[0].ConversationID, res[2].ConversationID)
		}
		convs, _, err = s.Conversations(ctx, ints[0].WorkspaceID, ConversationFilter{}, domain.Page{})
		if err != nil || len(convs) != 0 {
			t.Errorf("the poisoned item left %d conversations (%v)", len(convs), err)
		}
		var contacts int64
		s.db.Model(&contactRow{}).Where("workspace_id = ?", ints[0].WorkspaceID).Count(&contacts)
		if contacts != 0 {
			t.Errorf("the poisoned item left %d contacts", contacts)
		}
		// The ingester still works for the next batch.
		res, errs = ing.IngestEach(ctx, []IngestItem{item(ints[1], "v4", "t2", "fine")}, plainRecorder)
		if errs[0] != nil || res[0].Status != "ok" {
			t.Errorf("next batch: %+v %v", res[0], errs[0])
		}
	})
}

func TestEventErrorBounded(t *testing.T) {
	tests := []struct {
		name, in string
		maxLen   int
	}{
		{"short stays", "sentAt is bad", 13},
		{"long is cut", strings.Repeat("é", 10<<10), maxEventErrorLen},
		{"NUL is shown, not stored", "a\x00b", 6},
		{"invalid UTF-8 is replaced", "a\xffb", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := eventError(tt.in)
			if len(got) > tt.maxLen || !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 {
				t.Errorf("eventError(%.20q) = %.40q (%d bytes), want valid UTF-8 without NUL, at most %d bytes", tt.in, got, len(got), tt.maxLen)
			}
		})
	}
}

// countingHandler counts log records whose message contains a phrase.
type countingHandler struct {
	slog.Handler
	phrase string
	n      *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.phrase) {
		h.n.Add(1)
	}
	return nil
}

// TestIngestEachStopsOnALostConnection: a batch failing because its
// connection is gone is not replayed item by item (each would fail the same
// way); every item reports the connection's error.
func TestIngestEachStopsOnALostConnection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		var fallbacks atomic.Int64
		log := slog.New(countingHandler{Handler: slog.DiscardHandler, phrase: "one by one", n: &fallbacks})
		s, err := Open(ctx, url, log)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		ws, err := s.EnsureWorkspace(ctx, "lost")
		if err != nil {
			t.Fatal(err)
		}
		in, err := s.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "lost", Kind: "custom", Status: domain.StatusActive}, IntegrationSecrets{})
		if err != nil {
			t.Fatal(err)
		}
		ing, err := s.NewIngester(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ing.conn.Close() // the connection is lost
		var items []IngestItem
		for i := range 3 {
			items = append(items, IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, Channel: "custom", Message: &domain.InboundMessage{
				ExternalID: fmt.Sprint("m", i), ThreadExternalID: "t", Content: "x", ContentType: "text", SentAt: time.Now().UTC(),
				From: domain.Contact{ExternalID: "c"}}})
		}
		_, errs := ing.IngestEach(ctx, items, plainRecorder)
		for i, err := range errs {
			if err == nil {
				t.Errorf("item %d committed on a closed connection", i)
			}
		}
		if n := fallbacks.Load(); n != 0 {
			t.Errorf("a lost connection was replayed item by item (%d times)", n)
		}
	})
}
