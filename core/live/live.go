// Package live tells whoever watches a conversation, or a workspace's
// conversations, that something in it changed, once the change has
// committed: a new message, an agent's reply, an end. It carries no data,
// only the news; a watcher reads what changed from the store.
//
// Within one process a change reaches every subscriber at once. With a Bus
// (PostgreSQL's LISTEN/NOTIFY, from core/store) it also reaches the other
// hub processes on the same database, so a visitor streaming from one
// process sees a reply posted on another.
//
//	sub := hub.Subscribe(live.Conversation(id))
//	defer sub.Close()
//	for range sub.C() { /* read what is new */ }
//
// A subscription's channel holds at most one pending signal: changes that
// arrive while the watcher is busy coalesce into one wake-up, so a
// publisher never blocks and no goroutine is started per change.
package live

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Change says a conversation of a workspace changed.
type Change struct {
	WorkspaceID    string
	ConversationID string
}

// Topic is what a subscription watches.
type Topic string

// Conversation is the topic of one conversation's changes.
func Conversation(id string) Topic { return Topic("c:" + id) }

// Workspace is the topic of every conversation change in a workspace.
func Workspace(id string) Topic { return Topic("w:" + id) }

// Bus carries changes between hub processes.
type Bus interface {
	// Publish sends a payload to every process listening, this one included.
	Publish(ctx context.Context, payload string) error
	// Listen calls receive with every payload published, until ctx ends,
	// reconnecting as needed. It calls resync after each (re)connection,
	// since payloads published meanwhile were missed.
	Listen(ctx context.Context, receive func(payload string), resync func())
}

// Limits of the cross-process traffic.
const (
	// maxPayload keeps a payload under PostgreSQL's 8000-byte limit on a
	// notification.
	maxPayload = 7900
	// maxPending bounds the changes waiting to be sent to other processes;
	// past it they are dropped and the others are told to re-read everything.
	maxPending = 8192
	// payloadVersion starts every payload, so a format change can be told apart.
	payloadVersion = "v1"
	// resyncAll in a payload wakes every subscriber.
	resyncAll = "*"
)

// Hub fans changes out to subscribers. The zero value is not usable; a nil
// *Hub publishes nothing and is safe to call.
type Hub struct {
	log    *slog.Logger
	bus    Bus
	origin string // this process, so it skips its own payloads

	mu   sync.RWMutex
	subs map[Topic]map[*Subscription]struct{}

	pendMu   sync.Mutex
	pending  map[Change]struct{}
	overflow bool
	wake     chan struct{}
}

// New returns a hub; bus may be nil when only one process serves the
// database (SQLite).
func New(bus Bus, log *slog.Logger) *Hub {
	return &Hub{
		log:     log,
		bus:     bus,
		origin:  strings.ReplaceAll(uuid.NewString(), "-", "")[:16],
		subs:    map[Topic]map[*Subscription]struct{}{},
		pending: map[Change]struct{}{},
		wake:    make(chan struct{}, 1),
	}
}

// Subscription watches one topic until closed.
type Subscription struct {
	h     *Hub
	topic Topic
	c     chan struct{}
	once  sync.Once
}

// C signals that the topic changed since the last signal was taken.
func (s *Subscription) C() <-chan struct{} { return s.c }

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.h.mu.Lock()
		defer s.h.mu.Unlock()
		set := s.h.subs[s.topic]
		delete(set, s)
		if len(set) == 0 {
			delete(s.h.subs, s.topic)
		}
	})
}

// Subscribe watches a topic. Subscribe before reading the current state,
// so that no change between the read and the subscription is missed.
func (h *Hub) Subscribe(t Topic) *Subscription {
	s := &Subscription{h: h, topic: t, c: make(chan struct{}, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.subs[t]
	if set == nil {
		set = map[*Subscription]struct{}{}
		h.subs[t] = set
	}
	set[s] = struct{}{}
	return s
}

// Subscribers counts the open subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, set := range h.subs {
		n += len(set)
	}
	return n
}

// Publish tells this process's subscribers at once, and the other
// processes as soon as the bus can. Call it after the change committed.
func (h *Hub) Publish(changes ...Change) {
	if h == nil || len(changes) == 0 {
		return
	}
	h.deliver(changes)
	if h.bus == nil {
		return
	}
	h.pendMu.Lock()
	for _, c := range changes {
		if len(h.pending) >= maxPending {
			h.overflow = true
			break
		}
		h.pending[c] = struct{}{}
	}
	h.pendMu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// deliver signals the subscribers of each change's conversation and workspace.
func (h *Hub) deliver(changes []Change) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.subs) == 0 {
		return
	}
	for _, c := range changes {
		h.signal(Conversation(c.ConversationID))
		h.signal(Workspace(c.WorkspaceID))
	}
}

// signal wakes a topic's subscribers; the caller holds h.mu.
func (h *Hub) signal(t Topic) {
	for s := range h.subs[t] {
		select {
		case s.c <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// resync wakes every subscriber: changes may have been missed.
func (h *Hub) resync() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for t := range h.subs {
		h.signal(t)
	}
}

// Run carries changes to and from the other processes until ctx ends. It
// returns at once without a bus.
func (h *Hub) Run(ctx context.Context) {
	if h == nil || h.bus == nil {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { h.bus.Listen(ctx, h.receive, h.resync) })
	h.send(ctx)
	wg.Wait()
}

// send publishes pending changes, coalescing those that arrive while a
// publication is in flight. A publication that fails is retried, and the
// changes it carried are then announced as a resync.
func (h *Hub) send(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		}
		h.pendMu.Lock()
		changes := make([]Change, 0, len(h.pending))
		for c := range h.pending {
			changes = append(changes, c)
		}
		clear(h.pending)
		overflow := h.overflow
		h.overflow = false
		h.pendMu.Unlock()

		for _, p := range encode(h.origin, changes, overflow) {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := h.bus.Publish(pctx, p)
			cancel()
			if err == nil {
				backoff = 100 * time.Millisecond
				continue
			}
			if ctx.Err() != nil {
				return
			}
			h.log.Warn("live: tell other processes of changes", "err", err)
			// What this payload and the rest carried is lost; have the
			// others re-read everything once the bus is back.
			h.pendMu.Lock()
			h.overflow = true
			h.pendMu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			select {
			case h.wake <- struct{}{}:
			default:
			}
			break
		}
	}
}

// encode packs changes into payloads: the version, this process's origin,
// then "workspace/conversation" items, or "*" to wake everything.
func encode(origin string, changes []Change, all bool) []string {
	head := payloadVersion + " " + origin
	if all {
		return []string{head + " " + resyncAll}
	}
	var out []string
	var b strings.Builder
	for _, c := range changes {
		item := c.WorkspaceID + "/" + c.ConversationID
		if b.Len() > 0 && b.Len()+1+len(item) > maxPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(head)
		}
		b.WriteByte(' ')
		b.WriteString(item)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// receive delivers a payload from another process to this one's subscribers.
func (h *Hub) receive(payload string) {
	fields := strings.Fields(payload)
	if len(fields) < 3 || fields[0] != payloadVersion {
		return // another version's format: nothing this process can read
	}
	if fields[1] == h.origin {
		return // published here, and delivered when it was
	}
	changes := make([]Change, 0, len(fields)-2)
	for _, f := range fields[2:] {
		if f == resyncAll {
			h.resync()
			return
		}
		ws, conv, ok := strings.Cut(f, "/")
		if !ok {
			continue
		}
		changes = append(changes, Change{WorkspaceID: ws, ConversationID: conv})
	}
	h.deliver(changes)
}
