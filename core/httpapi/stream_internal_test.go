package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/core/threads"
)

// TestStreamSendsALongHistoryPageByPage: a stream that resumes from an old
// Last-Event-ID (anyone holding the visitor id may send any) reads the
// whole conversation since then. It must pass it on a page at a time, not
// gather it all first: a conversation of thousands of 64 KiB replies
// would otherwise sit in the hub's memory once per stream.
func TestStreamSendsALongHistoryPageByPage(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(ctx, storetest.SQLite(t), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ws, err := st.EnsureWorkspace(ctx, "streams")
	if err != nil {
		t.Fatal(err)
	}
	in, err := st.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "shop", Kind: "webchat", Status: domain.StatusActive}, store.IntegrationSecrets{})
	if err != nil {
		t.Fatal(err)
	}
	const visitor = "on4iRj9U2Zqmyp0TA1oYVQu9YWO4uM4whSsEJr87HmQ"
	lastSeen := store.NewID() // an event id from before the conversation
	total := 3*streamPage + 10
	content := strings.Repeat("x", 1000)
	var items []store.IngestItem
	for i := range total {
		items = append(items, store.IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, Channel: "webchat", Chat: true,
			Message: &domain.InboundMessage{ExternalID: fmt.Sprintf("%s:m%04d", visitor, i), ThreadExternalID: visitor, Content: content,
				ContentType: "text", SentAt: time.Now().UTC(), Event: "MESSAGE", From: domain.Contact{ExternalID: visitor}}})
	}
	if _, err := st.Ingest(ctx, items, threads.NewService(st, nil, nil).Record); err != nil {
		t.Fatal(err)
	}
	conv, err := st.PublicChat(ctx, in.ID, visitor)
	if err != nil {
		t.Fatal(err)
	}

	cs := &chatStream{s: &Server{Deps: Deps{Store: st}}, conv: conv.ID, sent: map[string]struct{}{}}
	biggest, events := 0, 0
	cs.drain = func(b *bytes.Buffer) bool {
		biggest = max(biggest, b.Len())
		events += strings.Count(b.String(), "event: message\n")
		b.Reset()
		return true
	}
	var buf bytes.Buffer
	if err := cs.start(ctx, &buf, lastSeen); err != nil {
		t.Fatal(err)
	}
	events += strings.Count(buf.String(), "event: message\n")
	page := streamPage * (len(content) + 300)
	if events != total || biggest > page || buf.Len() > page {
		t.Errorf("%d of %d messages sent; %d bytes held at most, %d left, want at most a page (%d)", events, total, biggest, buf.Len(), page)
	}
}
