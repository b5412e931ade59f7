package live

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// wait reports whether sub is signalled within a generous timeout.
func wait(sub *Subscription) bool {
	select {
	case <-sub.C():
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

// quiet reports whether sub has no signal pending.
func quiet(sub *Subscription) bool {
	select {
	case <-sub.C():
		return false
	default:
		return true
	}
}

func TestSubscribePublish(t *testing.T) {
	h := New(nil, slog.New(slog.DiscardHandler))
	conv := h.Subscribe(Conversation("c1"))
	other := h.Subscribe(Conversation("c2"))
	ws := h.Subscribe(Workspace("w1"))
	h.Publish(Change{WorkspaceID: "w1", ConversationID: "c1"})
	if !wait(conv) || !wait(ws) {
		t.Fatal("subscribers of the conversation and its workspace were not told")
	}
	if !quiet(other) {
		t.Error("a subscriber of another conversation was told")
	}

	// Changes that arrive while the watcher is busy coalesce into one signal.
	for range 100 {
		h.Publish(Change{WorkspaceID: "w1", ConversationID: "c1"})
	}
	if !wait(conv) || !quiet(conv) {
		t.Error("many changes did not coalesce into one pending signal")
	}

	conv.Close()
	conv.Close() // twice is fine
	h.Publish(Change{WorkspaceID: "w1", ConversationID: "c1"})
	if !quiet(conv) {
		t.Error("a closed subscription was told")
	}
	if n := h.Subscribers(); n != 2 {
		t.Errorf("subscribers = %d, want 2", n)
	}
	var nilHub *Hub
	nilHub.Publish(Change{WorkspaceID: "w", ConversationID: "c"}) // no panic
}

// memBus is a bus shared by hubs in one test, as PostgreSQL's NOTIFY is
// shared by processes: every listener gets every payload.
type memBus struct {
	mu        sync.Mutex
	listeners []chan string
	fail      bool
	payloads  []string
}

func (b *memBus) Publish(_ context.Context, p string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail {
		return fmt.Errorf("bus down")
	}
	b.payloads = append(b.payloads, p)
	for _, l := range b.listeners {
		l <- p
	}
	return nil
}

func (b *memBus) Listen(ctx context.Context, receive func(string), resync func()) {
	ch := make(chan string, 1024)
	b.mu.Lock()
	b.listeners = append(b.listeners, ch)
	b.mu.Unlock()
	resync()
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-ch:
			receive(p)
		}
	}
}

func TestAcrossProcesses(t *testing.T) {
	bus := &memBus{}
	a, b := New(bus, slog.New(slog.DiscardHandler)), New(bus, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(ctx) })
	wg.Go(func() { b.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	onB := b.Subscribe(Conversation("c1"))
	onA := a.Subscribe(Conversation("c1"))
	// Both start by resyncing, which wakes every subscriber: drain that.
	time.Sleep(50 * time.Millisecond)
	for _, s := range []*Subscription{onA, onB} {
		select {
		case <-s.C():
		default:
		}
	}
	a.Publish(Change{WorkspaceID: "w1", ConversationID: "c1"})
	if !wait(onB) {
		t.Fatal("a change published in process A did not reach process B")
	}
	if !wait(onA) {
		t.Fatal("a change published in process A did not reach A's own subscriber")
	}
	// A skips its own payload coming back over the bus: one signal only.
	time.Sleep(50 * time.Millisecond)
	if !quiet(onA) {
		t.Error("process A was told twice of its own change")
	}
}

func TestEncodeSplitsLargePayloads(t *testing.T) {
	var changes []Change
	for i := range 500 {
		changes = append(changes, Change{WorkspaceID: fmt.Sprintf("w-%036d", i), ConversationID: fmt.Sprintf("c-%036d", i)})
	}
	payloads := encode("origin", changes, false)
	if len(payloads) < 2 {
		t.Fatalf("%d payloads for 500 changes, want several", len(payloads))
	}
	items := 0
	for _, p := range payloads {
		if len(p) > maxPayload {
			t.Errorf("payload of %d bytes exceeds %d", len(p), maxPayload)
		}
		if !strings.HasPrefix(p, "v1 origin ") {
			t.Errorf("payload starts %.20q", p)
		}
		items += len(strings.Fields(p)) - 2
	}
	if items != 500 {
		t.Errorf("%d items in payloads, want 500", items)
	}
	if got := encode("o", changes, true); len(got) != 1 || got[0] != "v1 o *" {
		t.Errorf("resync payloads %q", got)
	}
}

func TestFailedPublicationBecomesResync(t *testing.T) {
	bus := &memBus{fail: true}
	a, b := New(bus, slog.New(slog.DiscardHandler)), New(bus, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(ctx) })
	wg.Go(func() { b.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	unrelated := b.Subscribe(Conversation("elsewhere"))
	time.Sleep(50 * time.Millisecond)
	select {
	case <-unrelated.C():
	default:
	}
	a.Publish(Change{WorkspaceID: "w1", ConversationID: "c1"})
	time.Sleep(150 * time.Millisecond) // the first publication fails
	bus.mu.Lock()
	bus.fail = false
	bus.mu.Unlock()
	// Once the bus is back, B is told to re-read everything.
	if !wait(unrelated) {
		t.Fatal("after a failed publication the other process was not told to resync")
	}
}
