package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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
func (s *Store) Ingest(ctx context.Context, items []IngestItem) ([]IngestResult, error) {
	in, err := s.NewIngester(ctx)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	return in.Ingest(ctx, items)
}

// Ingest records a batch of inbound requests in one transaction: threads
// messages into conversations, drops repeated message ids, writes the event
// log and keeps raw requests. Nothing is written unless everything is.
func (in *Ingester) Ingest(ctx context.Context, items []IngestItem) ([]IngestResult, error) {
	var err error
	for try := 0; try < 5; try++ {
		var results []IngestResult
		var p *pendingThreads
		in.heldKeys = in.heldKeys[:0]
		results, p, err = in.ingestTx(ctx, items)
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
func (in *Ingester) IngestEach(ctx context.Context, items []IngestItem) ([]IngestResult, []error) {
	errs := make([]error, len(items))
	results, err := in.Ingest(ctx, items)
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
		res, err := in.Ingest(ctx, items[i:i+1])
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

type pendingMessage struct {
	item      int
	id        string
	convID    string
	contactID string
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

func (in *Ingester) ingestTx(ctx context.Context, items []IngestItem) ([]IngestResult, *pendingThreads, error) {
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

	t := now()
	results := make([]IngestResult, len(items))
	p := newPendingThreads()
	seen := make(map[string]struct{}, len(items))
	msgs := make([]pendingMessage, 0, len(items))
	errs := make([]string, len(items))
	// A repeated message id is dropped before its thread and sender are
	// looked up, so a repeat under a new conversationId creates neither.
	stored, err := in.storedMessageIDs(ctx, items)
	if err != nil {
		return nil, nil, err
	}

	for i := range items {
		it := &items[i]
		switch {
		case it.Message != nil:
			m := it.Message
			key := it.IntegrationID + "\x00" + m.ExternalID
			_, dup := seen[key]
			if _, ok := stored[key]; ok {
				dup = true
			}
			if dup {
				results[i].Status = domain.EventSkip
				errs[i] = duplicateError(m.ExternalID)
				continue
			}
			seen[key] = struct{}{}
			contactID, err := in.resolveContact(ctx, p, it.WorkspaceID, &m.From, t)
			if err != nil {
				return nil, nil, err
			}
			convID, err := in.resolveConversation(ctx, p, it, contactID, t)
			if err != nil {
				return nil, nil, err
			}
			msgs = append(msgs, pendingMessage{item: i, id: NewID(), convID: convID, contactID: contactID})
		case it.Raw != nil:
			results[i].Status = IngestKept
		default:
			results[i].Status = it.Status
			errs[i] = it.Error
		}
	}

	inserted, err := in.insertMessages(ctx, items, msgs, t)
	if err != nil {
		return nil, nil, err
	}
	for _, pm := range msgs {
		r := &results[pm.item]
		if _, ok := inserted[pm.id]; ok {
			r.Status, r.MessageID, r.ConversationID, r.ContactID = domain.EventOK, pm.id, pm.convID, pm.contactID
		} else {
			r.Status = domain.EventSkip
			errs[pm.item] = duplicateError(items[pm.item].Message.ExternalID)
		}
	}
	if err := in.touchConversations(ctx, items, msgs, results); err != nil {
		return nil, nil, err
	}
	if err := in.touchChats(ctx, items, msgs, results); err != nil {
		return nil, nil, err
	}
	if err := in.insertEvents(ctx, items, results, errs, t); err != nil {
		return nil, nil, err
	}
	if err := in.fanout(ctx, items, msgs, results, t); err != nil {
		return nil, nil, err
	}
	if err := in.insertInbox(ctx, items, t); err != nil {
		return nil, nil, err
	}
	if err := in.deleteReplayed(ctx, items); err != nil {
		return nil, nil, err
	}
	if _, err := in.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, nil, err
	}
	committed = true
	return results, p, nil
}

// storedMessageIDs returns which of the batch's messages repeat an id
// already stored, as integration id, NUL, message id. Lookups go in a few
// fixed sizes, padded, so their prepared statements are reused.
func (in *Ingester) storedMessageIDs(ctx context.Context, items []IngestItem) (map[string]struct{}, error) {
	byIntegration := map[string][]string{}
	for i := range items {
		if m := items[i].Message; m != nil {
			byIntegration[items[i].IntegrationID] = append(byIntegration[items[i].IntegrationID], m.ExternalID)
		}
	}
	out := map[string]struct{}{}
	for integrationID, ids := range byIntegration {
		for len(ids) > 0 {
			size := 64
			switch {
			case len(ids) <= 1:
				size = 1
			case len(ids) <= 8:
				size = 8
			}
			chunk := ids[:min(size, len(ids))]
			ids = ids[len(chunk):]
			args := make([]any, 0, size+1)
			args = append(args, integrationID)
			for i := range size {
				args = append(args, chunk[min(i, len(chunk)-1)])
			}
			rows, err := in.query(ctx, `SELECT external_id FROM messages WHERE integration_id = ? AND external_id IN (`+placeholders(size)+`)`, args...)
			if err != nil {
				return nil, fmt.Errorf("find stored message ids: %w", err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return nil, fmt.Errorf("find stored message ids: %w", err)
				}
				out[integrationID+"\x00"+id] = struct{}{}
			}
			if err := rows.Close(); err != nil {
				return nil, fmt.Errorf("find stored message ids: %w", err)
			}
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("find stored message ids: %w", err)
			}
		}
	}
	return out, nil
}

// touchConversations moves each conversation's last activity forward to its
// newest stored message's time, once per conversation, in id order so
// concurrent batches lock the rows in one order and never deadlock. It never
// moves it back: messages arrive in any order.
func (in *Ingester) touchConversations(ctx context.Context, items []IngestItem, msgs []pendingMessage, results []IngestResult) error {
	latest := map[string]time.Time{}
	t := now()
	for _, pm := range msgs {
		if results[pm.item].Status == domain.EventOK {
			at := messageActivity(&items[pm.item], t)
			if cur, ok := latest[pm.convID]; !ok || at.After(cur) {
				latest[pm.convID] = at
			}
		}
	}
	ids := make([]string, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		at := latest[id]
		if _, err := in.exec(ctx, `UPDATE conversations SET last_message_at = ? WHERE id = ? AND (last_message_at IS NULL OR last_message_at < ?)`, at, id, at); err != nil {
			return fmt.Errorf("touch conversation: %w", err)
		}
	}
	return nil
}

// touchChats records, on each chat, the connection and sender of its
// contact's newest message and when it came: replies go out the same way,
// and the channel's reply window runs from it.
func (in *Ingester) touchChats(ctx context.Context, items []IngestItem, msgs []pendingMessage, results []IngestResult) error {
	latest := map[string]int{}
	t := now()
	for _, pm := range msgs {
		it := &items[pm.item]
		if !it.Chat || results[pm.item].Status != domain.EventOK {
			continue
		}
		if cur, ok := latest[pm.convID]; !ok || messageActivity(it, t).After(messageActivity(&items[cur], t)) {
			latest[pm.convID] = pm.item
		}
	}
	ids := make([]string, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		it := &items[latest[id]]
		at := messageActivity(it, t)
		if _, err := in.exec(ctx, `UPDATE conversations SET connection_id = ?, channel = ?, sender = ?, last_inbound_at = ?
			WHERE id = ? AND (last_inbound_at IS NULL OR last_inbound_at < ?)`,
			it.ConnectionID, it.Channel, it.Sender, at, id, at); err != nil {
			return fmt.Errorf("touch chat: %w", err)
		}
	}
	return nil
}

// messageActivity is the time a message counts for in its conversation's
// last activity: its sentAt, as the sender gave it (the conversation's
// lastMessageAt shows it), or when it was received if it has none.
func messageActivity(it *IngestItem, now time.Time) time.Time {
	at := it.Message.SentAt
	if at.IsZero() {
		at = it.ReceivedAt
	}
	if at.IsZero() {
		at = now
	}
	return activityTime(at)
}

// fanout writes the deliveries each stored message causes.
func (in *Ingester) fanout(ctx context.Context, items []IngestItem, msgs []pendingMessage, results []IngestResult, t time.Time) error {
	if in.s.planner == nil {
		return nil
	}
	for _, pm := range msgs {
		if results[pm.item].Status != domain.EventOK {
			continue
		}
		it := &items[pm.item]
		m := it.Message
		msg := &domain.Message{ID: pm.id, WorkspaceID: it.WorkspaceID, IntegrationID: it.IntegrationID, ConversationID: pm.convID,
			Direction: domain.Inbound, ExternalID: m.ExternalID, Content: m.Content, ContentType: m.ContentType,
			SentAt: m.SentAt, Status: domain.MessageReceived, MediaURL: m.MediaURL, MediaCaption: m.MediaCaption, CreatedAt: t}
		from := m.From
		from.ID = results[pm.item].ContactID
		ev := &domain.OutboundEvent{
			Kind: domain.OutboundMessage, WorkspaceID: it.WorkspaceID, IntegrationID: it.IntegrationID, Channel: it.Channel, Chat: it.Chat,
			Conversation: domain.Conversation{ID: pm.convID, WorkspaceID: it.WorkspaceID, IntegrationID: it.IntegrationID,
				ExternalID: m.ThreadExternalID, Status: domain.ConversationOpen, Contact: from,
				ConnectionID: it.ConnectionID, Channel: it.Channel, Sender: it.Sender},
			Message: msg, At: t,
		}
		ds, err := in.s.plan(ctx, ev)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			continue
		}
		keys, err := insertDeliveries(ctx, in.exec, in.queryRow, ev, ds, t)
		if err != nil {
			return err
		}
		in.heldKeys = append(in.heldKeys, keys...)
		results[pm.item].Deliveries += len(ds)
	}
	return nil
}

func duplicateError(externalID string) string {
	return fmt.Sprintf("duplicate messageId %q: already stored", externalID)
}

// resolveContact finds the sender by email (case-insensitive), then by
// external id, and creates it when neither matches.
func (in *Ingester) resolveContact(ctx context.Context, p *pendingThreads, workspaceID string, from *domain.Contact, t time.Time) (string, error) {
	email := strings.ToLower(strings.TrimSpace(from.Email))
	emailKey := "e\x00" + workspaceID + "\x00" + email
	if email != "" {
		if id, ok := in.s.threads.contact(p, emailKey); ok {
			return id, nil
		}
		var id string
		err := in.queryRow(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND email_lower = ? ORDER BY id LIMIT 1`, workspaceID, email).Scan(&id)
		if err == nil {
			p.contacts[emailKey] = id
			return id, nil
		}
		if err != sql.ErrNoRows {
			return "", fmt.Errorf("match contact by email: %w", err)
		}
	}
	extID := from.ExternalID
	if extID == "" {
		extID = from.Phone
	}
	extKey := "x\x00" + workspaceID + "\x00" + extID
	if id, ok := in.s.threads.contact(p, extKey); ok && email == "" {
		return id, nil
	}
	id := NewID()
	res, err := in.exec(ctx, `INSERT INTO contacts (id, workspace_id, external_id, name, email, email_lower, phone, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, external_id) DO NOTHING`,
		id, workspaceID, extID, from.Name, strings.TrimSpace(from.Email), email, from.Phone, t)
	if err != nil {
		return "", fmt.Errorf("create contact: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if err := in.queryRow(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND external_id = ?`, workspaceID, extID).Scan(&id); err != nil {
			return "", fmt.Errorf("match contact by external id: %w", err)
		}
		if email != "" {
			// Known by external id, now with an email: remember it for matching.
			_, err := in.exec(ctx, `UPDATE contacts SET email = ?, email_lower = ? WHERE id = ? AND email_lower = ''`, strings.TrimSpace(from.Email), email, id)
			if err != nil {
				return "", fmt.Errorf("set contact email: %w", err)
			}
		}
	}
	p.contacts[extKey] = id
	if email != "" {
		p.contacts[emailKey] = id
	}
	return id, nil
}

// resolveConversation returns the thread for the item's external thread id,
// creating it (with this message's subject) when it is new.
//
// An app's thread keeps its id for good, so it is cached. A chat ends,
// possibly in another hub process, and the contact's next message opens a
// new one: a chat is looked up in the database every time.
func (in *Ingester) resolveConversation(ctx context.Context, p *pendingThreads, it *IngestItem, contactID string, t time.Time) (string, error) {
	m := it.Message
	key := it.IntegrationID + "\x00" + m.ThreadExternalID
	if it.Chat {
		if id, ok := p.chats[key]; ok {
			return id, nil
		}
	} else if id, ok := in.s.threads.conversation(p, key); ok {
		return id, nil
	}
	id := NewID()
	res, err := in.exec(ctx, `INSERT INTO conversations (id, workspace_id, integration_id, external_id, thread_key, contact_id, subject, status, team_id,
		connection_id, channel, sender, last_message_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?) ON CONFLICT (integration_id, thread_key) DO NOTHING`,
		id, it.WorkspaceID, it.IntegrationID, m.ThreadExternalID, m.ThreadExternalID, contactID, m.Subject, domain.ConversationOpen,
		it.ConnectionID, chatChannel(it), it.Sender, messageActivity(it, t), t)
	if err != nil {
		return "", fmt.Errorf("create conversation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		err := in.queryRow(ctx, `SELECT id FROM conversations WHERE integration_id = ? AND thread_key = ?`, it.IntegrationID, m.ThreadExternalID).Scan(&id)
		if err != nil {
			return "", fmt.Errorf("find conversation: %w", err)
		}
	}
	if it.Chat {
		p.chats[key] = id
	} else {
		p.conversations[key] = id
	}
	return id, nil
}

// chatChannel is the channel a new conversation records: a connection's.
func chatChannel(it *IngestItem) string {
	if it.ConnectionID == "" {
		return ""
	}
	return it.Channel
}

// insertMessages writes messages with multi-row inserts and returns the ids
// that were new; the others repeated a stored external id.
func (in *Ingester) insertMessages(ctx context.Context, items []IngestItem, msgs []pendingMessage, t time.Time) (map[string]struct{}, error) {
	const cols = 14
	inserted := make(map[string]struct{}, len(msgs))
	for start := 0; start < len(msgs); start += maxRowsPerInsert {
		chunk := msgs[start:min(start+maxRowsPerInsert, len(msgs))]
		var b strings.Builder
		b.WriteString(`INSERT INTO messages (id, workspace_id, integration_id, conversation_id, direction, external_id, content, content_type, sent_at, status, created_at,
			media_url, media_caption, connection_id) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, pm := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
			it := &items[pm.item]
			m := it.Message
			args = append(args, pm.id, it.WorkspaceID, it.IntegrationID, pm.convID, domain.Inbound,
				m.ExternalID, m.Content, m.ContentType, m.SentAt, domain.MessageReceived, t, m.MediaURL, m.MediaCaption, it.ConnectionID)
		}
		b.WriteString(` ON CONFLICT (integration_id, external_id) DO NOTHING RETURNING id`)
		rows, err := in.query(ctx, b.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("insert messages: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("insert messages: %w", err)
			}
			inserted[id] = struct{}{}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("insert messages: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("insert messages: %w", err)
		}
	}
	return inserted, nil
}

// maxRowsPerInsert keeps a multi-row insert under both databases' limits on bound parameters.
const maxRowsPerInsert = 500

func (in *Ingester) insertEvents(ctx context.Context, items []IngestItem, results []IngestResult, errs []string, t time.Time) error {
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
		args = append(args, NewID(), items[i].WorkspaceID, items[i].IntegrationID, results[i].Status, eventType, eventError(errs[i]), t)
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
