package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/switchboardhq/switchboard/core/domain"
)

// IngestItem is one inbound request's outcome, to be recorded in a batch.
// Exactly one of Message, Raw, or an event-only Status is set.
type IngestItem struct {
	WorkspaceID   string
	IntegrationID string
	// Channel is the integration's kind or the connection's channel.
	Channel    string
	ReceivedAt time.Time
	// Chat marks traffic whose replies a plugin sends (on a connection, in
	// the widget): a message opens a new chat once the last one ended, and
	// its deliveries follow the chat rules (see domain.OutboundEvent.Chat).
	Chat bool
	// ConnectionID and Sender are set for traffic on a connection.
	ConnectionID string
	Sender       string

	// Message is a normalised message to thread and store.
	Message *domain.InboundMessage
	// Raw is a request kept for its plugin, which could not be reached.
	Raw *RawInbound
	// Status, EventType and Error record an event without a message.
	Status    string
	EventType string
	Error     string

	// InboxID marks a replay of a kept request, removed in the same transaction.
	// A replay item without a WorkspaceID records nothing else.
	InboxID string
}

// RawInbound is an inbound HTTP request kept until its plugin is back.
type RawInbound struct {
	Kind         string
	ConnectionID string
	Method       string
	URL          string
	Header       http.Header
	Body         []byte
}

// Ingest outcomes beyond the event-log statuses.
const IngestKept = "kept"

// IngestResult says what became of one item.
type IngestResult struct {
	// Status is an event-log status (ok, skip, …) or IngestKept.
	Status         string
	MessageID      string
	ConversationID string
	ContactID      string
	// Deliveries counts the deliveries queued for the message.
	Deliveries int
	// Error is what the event log says of an item that was not stored.
	Error string
}

// Ingester records batches of inbound requests on a dedicated connection
// with its own prepared statements, so the hot path neither waits for a pool
// connection nor re-parses SQL. One Ingester is used by one goroutine.
type Ingester struct {
	s     *Store
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	// heldKeys are the ordering keys of deliveries the batch held.
	heldKeys []string
}

// maxCachedStatements bounds an Ingester's prepared statements.
const maxCachedStatements = 256

// NewIngester takes a connection from the pool for batch ingest.
func (s *Store) NewIngester(ctx context.Context) (*Ingester, error) {
	conn, err := s.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: ingest connection: %w", err)
	}
	return &Ingester{s: s, conn: conn, stmts: map[string]*sql.Stmt{}}, nil
}

// Close returns the connection to the pool.
func (in *Ingester) Close() error {
	for _, st := range in.stmts {
		st.Close()
	}
	return in.conn.Close()
}

// Ingest records one batch on a connection of its own; see Ingester.Ingest.
func (s *Store) Ingest(ctx context.Context, items []IngestItem, record Recorder) ([]IngestResult, error) {
	in, err := s.NewIngester(ctx)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	return in.Ingest(ctx, items, record)
}

// Ingest records a batch of inbound requests in one transaction: record
// decides, with the batch's queries, what each item becomes (threads,
// messages, deliveries); the event log and the kept raw requests follow
// from its results. Nothing is written unless everything is.
func (in *Ingester) Ingest(ctx context.Context, items []IngestItem, record Recorder) ([]IngestResult, error) {
	var err error
	for try := 0; try < 5; try++ {
		var results []IngestResult
		var p *pendingThreads
		in.heldKeys = in.heldKeys[:0]
		results, p, err = in.ingestTx(ctx, items, record)
		if err == nil {
			in.s.threads.merge(p)
			in.s.releaseHeadsAfterCommit(ctx, in.heldKeys)
			return results, nil
		}
		if !isRetryable(err) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(try+1) * 5 * time.Millisecond)
	}
	return nil, fmt.Errorf("store: ingest %d items: %w", len(items), err)
}

// IngestEach records a batch like Ingest, but isolates failures: when the
// batch's transaction fails, each item is recorded again in a transaction of
// its own, so an item the database refuses fails alone and the others, of
// any workspace, commit. errs[i] is item i's error, nil when it committed.
//
// Nothing of the failed batch transaction survives its rollback: neither its
// pending thread ids nor the ordering keys it held. Each item's own
// transaction keeps and releases its holds after its own commit, as Ingest does.
func (in *Ingester) IngestEach(ctx context.Context, items []IngestItem, record Recorder) ([]IngestResult, []error) {
	errs := make([]error, len(items))
	results, err := in.Ingest(ctx, items, record)
	if err == nil {
		return results, errs
	}
	// Only an item the database refuses is worth isolating: a lost
	// connection or an ended context would fail every item again.
	if len(items) == 1 || ctx.Err() != nil || isConnectionError(err) {
		for i := range errs {
			errs[i] = err
		}
		return make([]IngestResult, len(items)), errs
	}
	in.s.log.Warn("ingest batch failed; recording its items one by one", "items", len(items), "err", err)
	results = make([]IngestResult, len(items))
	for i := range items {
		res, err := in.Ingest(ctx, items[i:i+1], record)
		if err != nil {
			errs[i] = err
			if ctx.Err() != nil || isConnectionError(err) {
				for j := i + 1; j < len(items); j++ {
					errs[j] = err
				}
				break
			}
			continue
		}
		results[i] = res[0]
	}
	return results, errs
}

// stmt returns the prepared form of a query, preparing it on first use.
func (in *Ingester) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := in.stmts[q]; ok {
		return st, nil
	}
	if len(in.stmts) >= maxCachedStatements {
		for k, st := range in.stmts {
			st.Close()
			delete(in.stmts, k)
		}
	}
	st, err := in.conn.PrepareContext(ctx, in.s.rebind(q))
	if err != nil {
		return nil, err
	}
	in.stmts[q] = st
	return st, nil
}

func (in *Ingester) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := in.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (in *Ingester) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := in.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (in *Ingester) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := in.stmt(ctx, q)
	if err != nil {
		// QueryRow reports the same prepare error through Scan.
		return in.conn.QueryRowContext(ctx, in.s.rebind(q), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// begin opens a write transaction on the dedicated connection. SQLite takes
// the write lock at once (IMMEDIATE) so the commit never has to upgrade it.
func (in *Ingester) begin(ctx context.Context) error {
	q := "BEGIN"
	if in.s.dialect == "sqlite" {
		q = "BEGIN IMMEDIATE"
	}
	_, err := in.conn.ExecContext(ctx, q)
	return err
}

// Recorder decides what a batch of inbound items becomes, inside the
// transaction that records it, using the batch's queries: the threading
// rules live with the caller, the SQL here. It returns one result per item.
type Recorder func(ctx context.Context, b *Batch, items []IngestItem) ([]IngestResult, error)

func (in *Ingester) ingestTx(ctx context.Context, items []IngestItem, record Recorder) ([]IngestResult, *pendingThreads, error) {
	unlock := in.s.lockWrites()
	defer unlock()
	if err := in.begin(ctx); err != nil {
		return nil, nil, err
	}
	committed := false
	defer func() {
		if !committed {
			in.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	b := &Batch{in: in, p: newPendingThreads(), t: now()}
	results, err := record(ctx, b, items)
	if err != nil {
		return nil, nil, err
	}
	if err := b.writeDeliveries(ctx); err != nil {
		return nil, nil, err
	}
	if len(results) != len(items) {
		return nil, nil, fmt.Errorf("recorder gave %d results for %d items", len(results), len(items))
	}
	if err := in.insertEvents(ctx, items, results, b.t); err != nil {
		return nil, nil, err
	}
	if err := in.insertInbox(ctx, items, b.t); err != nil {
		return nil, nil, err
	}
	if err := in.deleteReplayed(ctx, items); err != nil {
		return nil, nil, err
	}
	if _, err := in.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, nil, err
	}
	committed = true
	return results, b.p, nil
}

func (in *Ingester) insertEvents(ctx context.Context, items []IngestItem, results []IngestResult, t time.Time) error {
	const cols = 7
	var b strings.Builder
	args := make([]any, 0, len(items)*cols)
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := in.exec(ctx, b.String(), args...)
		b.Reset()
		args = args[:0]
		n = 0
		if err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		return nil
	}
	for i := range items {
		if results[i].Status == IngestKept || items[i].WorkspaceID == "" {
			continue
		}
		if n == 0 {
			b.WriteString(`INSERT INTO events (id, workspace_id, integration_id, status, event_type, error, created_at) VALUES `)
		} else {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?)")
		eventType := items[i].EventType
		if eventType == "" {
			eventType = domain.EventMessageReceived
		}
		args = append(args, NewID(), items[i].WorkspaceID, items[i].IntegrationID, results[i].Status, eventType, eventError(results[i].Error), t)
		n++
		if n == maxRowsPerInsert {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func (in *Ingester) insertInbox(ctx context.Context, items []IngestItem, t time.Time) error {
	for i := range items {
		r := items[i].Raw
		if r == nil {
			continue
		}
		headers, err := json.Marshal(r.Header)
		if err != nil {
			return fmt.Errorf("keep raw request: %w", err)
		}
		received := items[i].ReceivedAt
		if received.IsZero() {
			received = t
		}
		_, err = in.exec(ctx, `INSERT INTO inbox_items (id, integration_id, kind, connection_id, method, url, headers, body, received_at, attempts, last_error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '')`,
			NewID(), items[i].IntegrationID, r.Kind, r.ConnectionID, r.Method, r.URL, string(headers), r.Body, received)
		if err != nil {
			return fmt.Errorf("keep raw request: %w", err)
		}
	}
	return nil
}

func (in *Ingester) deleteReplayed(ctx context.Context, items []IngestItem) error {
	for i := range items {
		if items[i].InboxID == "" {
			continue
		}
		if _, err := in.exec(ctx, `DELETE FROM inbox_items WHERE id = ?`, items[i].InboxID); err != nil {
			return fmt.Errorf("remove replayed request: %w", err)
		}
	}
	return nil
}

// threadCache remembers conversation and contact ids, which never change
// once created, so the hot path skips their lookups.
type threadCache struct {
	conversations *lru.Cache[string, string]
	contacts      *lru.Cache[string, string]
}

func newThreadCache() *threadCache {
	conv, _ := lru.New[string, string](100_000)
	cont, _ := lru.New[string, string](100_000)
	return &threadCache{conversations: conv, contacts: cont}
}

// pendingThreads holds ids created or found inside a transaction; they join
// the cache only once it commits.
type pendingThreads struct {
	conversations map[string]string
	contacts      map[string]string
	// chats are never cached beyond their transaction.
	chats map[string]string
}

func newPendingThreads() *pendingThreads {
	return &pendingThreads{conversations: map[string]string{}, contacts: map[string]string{}, chats: map[string]string{}}
}

func (c *threadCache) conversation(p *pendingThreads, key string) (string, bool) {
	if id, ok := p.conversations[key]; ok {
		return id, true
	}
	return c.conversations.Get(key)
}

func (c *threadCache) contact(p *pendingThreads, key string) (string, bool) {
	if id, ok := p.contacts[key]; ok {
		return id, true
	}
	return c.contacts.Get(key)
}

func (c *threadCache) merge(p *pendingThreads) {
	for k, v := range p.conversations {
		c.conversations.Add(k, v)
	}
	for k, v := range p.contacts {
		c.contacts.Add(k, v)
	}
}
