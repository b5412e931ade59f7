package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
)

// Batch is one ingest transaction, as the threading rules see it: the
// queries they need, answered on the ingester's connection with prepared
// statements, and ids remembered across batches where they never change.
type Batch struct {
	in *Ingester
	p  *pendingThreads
	t  time.Time
	// deliveries are written together before the commit.
	deliveries []queuedDelivery
}

// Now is the batch's time: when its rows are created.
func (b *Batch) Now() time.Time { return b.t }

// StoredMessageIDs returns which of the batch's messages repeat an id
// already stored, as integration id, NUL, message id. Lookups go in a few
// fixed sizes, padded, so their prepared statements are reused.
//
// On PostgreSQL each id is its own branch of a UNION ALL, an equality on
// both columns of the unique index. With "external_id IN (…)" PostgreSQL
// may scan an integration it believes to be small (a new one, not yet in
// the table's statistics) and filter every message it has, tens of
// milliseconds a batch once it has thousands. SQLite, which parses a
// statement on every run, keeps the shorter IN form, which it always
// answers from the index.
func (b *Batch) StoredMessageIDs(ctx context.Context, items []IngestItem) (map[string]struct{}, error) {
	in := b.in
	byIntegration := map[string][]string{}
	for i := range items {
		if m := items[i].Message; m != nil {
			byIntegration[items[i].IntegrationID] = append(byIntegration[items[i].IntegrationID], m.ExternalID)
		}
	}
	out := map[string]struct{}{}
	for integrationID, ids := range byIntegration {
		for len(ids) > 0 {
			size := lookupSize(len(ids))
			chunk := ids[:min(size, len(ids))]
			ids = ids[len(chunk):]
			args := make([]any, 0, 2*size)
			for i := range size {
				if i == 0 || in.s.dialect == "postgres" {
					args = append(args, integrationID)
				}
				args = append(args, chunk[min(i, len(chunk)-1)])
			}
			err := eachString(in.query(ctx, in.s.storedIDsQueries[size], args...))(func(id string) {
				out[integrationID+"\x00"+id] = struct{}{}
			})
			if err != nil {
				return nil, fmt.Errorf("find stored message ids: %w", err)
			}
		}
	}
	return out, nil
}

// storedIDsQueries are StoredMessageIDs' lookups in a dialect, by how many
// ids they take: (integration, id) pairs on PostgreSQL, the integration and
// then the ids on SQLite.
func storedIDsQueries(dialect string) map[int]string {
	const one = `SELECT external_id FROM messages WHERE integration_id = ? AND external_id = ?`
	qs := map[int]string{}
	for _, n := range []int{1, 8, 64} {
		if dialect == "postgres" {
			qs[n] = strings.TrimSuffix(strings.Repeat(one+" UNION ALL ", n), " UNION ALL ")
		} else {
			qs[n] = `SELECT external_id FROM messages WHERE integration_id = ? AND external_id IN (` + placeholders(n) + `)`
		}
	}
	return qs
}

// ContactByEmail finds a workspace's contact by email, lowercased.
func (b *Batch) ContactByEmail(ctx context.Context, workspaceID, emailLower string) (string, bool, error) {
	key := "e\x00" + workspaceID + "\x00" + emailLower
	if id, ok := b.in.s.threads.contact(b.p, key); ok {
		return id, true, nil
	}
	var id string
	err := b.in.queryRow(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND email_lower = ? ORDER BY id LIMIT 1`, workspaceID, emailLower).Scan(&id)
	switch {
	case err == sql.ErrNoRows:
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("match contact by email: %w", err)
	}
	b.p.contacts[key] = id
	return id, true, nil
}

// EnsureContact returns the workspace's contact with an external id,
// creating it from c when there is none; known says it existed.
func (b *Batch) EnsureContact(ctx context.Context, workspaceID, externalID string, c *domain.Contact) (id string, known bool, err error) {
	key := "x\x00" + workspaceID + "\x00" + externalID
	if id, ok := b.in.s.threads.contact(b.p, key); ok {
		return id, true, nil
	}
	email := strings.TrimSpace(c.Email)
	id = NewID()
	res, err := b.in.exec(ctx, `INSERT INTO contacts (id, workspace_id, external_id, name, email, email_lower, phone, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, external_id) DO NOTHING`,
		id, workspaceID, externalID, c.Name, email, strings.ToLower(email), c.Phone, b.t)
	if err != nil {
		return "", false, fmt.Errorf("create contact: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		known = true
		if err := b.in.queryRow(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND external_id = ?`, workspaceID, externalID).Scan(&id); err != nil {
			return "", false, fmt.Errorf("match contact by external id: %w", err)
		}
	}
	b.p.contacts[key] = id
	if email != "" && !known {
		b.p.contacts["e\x00"+workspaceID+"\x00"+strings.ToLower(email)] = id
	}
	return id, known, nil
}

// SetContactEmail gives a contact known without an email the one it now
// comes with, for matching later messages.
func (b *Batch) SetContactEmail(ctx context.Context, workspaceID, id, email string) error {
	email = strings.TrimSpace(email)
	res, err := b.in.exec(ctx, `UPDATE contacts SET email = ?, email_lower = ? WHERE id = ? AND email_lower = ''`, email, strings.ToLower(email), id)
	if err != nil {
		return fmt.Errorf("set contact email: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		b.p.contacts["e\x00"+workspaceID+"\x00"+strings.ToLower(email)] = id
	}
	return nil
}

// NewThread is a conversation to find by its thread key, or to open.
type NewThread struct {
	WorkspaceID   string
	IntegrationID string
	// Key is what the thread is found by while it takes messages: the
	// app's conversationId, or a chat's contact number.
	Key       string
	ContactID string
	// Subject is kept only when the thread is created.
	Subject      string
	ConnectionID string
	Channel      string
	Sender       string
	At           time.Time
	// Lasting says the key names the thread for good (an app's thread), so
	// its id may be remembered; a chat's key is released when it ends.
	Lasting bool
}

// ThreadKey is the key a thread is found by: an app's threads and chats
// have keys of their own, so an app that names a conversation after a
// contact's number never lands in that contact's chat.
func ThreadKey(key string, chat bool) string {
	if chat {
		return "c:" + key
	}
	return "a:" + key
}

// EnsureThread returns the open thread with the key, opening it when
// there is none.
func (b *Batch) EnsureThread(ctx context.Context, th NewThread) (string, error) {
	key := th.IntegrationID + "\x00" + th.Key
	threadKey := ThreadKey(th.Key, !th.Lasting)
	if th.Lasting {
		if id, ok := b.in.s.threads.conversation(b.p, key); ok {
			return id, nil
		}
	} else if id, ok := b.p.chats[key]; ok {
		return id, nil
	}
	id := NewID()
	res, err := b.in.exec(ctx, `INSERT INTO conversations (id, workspace_id, integration_id, external_id, thread_key, contact_id, subject, status, team_id,
		connection_id, channel, sender, last_message_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?) ON CONFLICT (integration_id, thread_key) DO NOTHING`,
		id, th.WorkspaceID, th.IntegrationID, th.Key, threadKey, th.ContactID, th.Subject, domain.ConversationOpen,
		th.ConnectionID, th.Channel, th.Sender, activityTime(th.At), b.t)
	if err != nil {
		return "", fmt.Errorf("create conversation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		err := b.in.queryRow(ctx, `SELECT id FROM conversations WHERE integration_id = ? AND thread_key = ?`, th.IntegrationID, threadKey).Scan(&id)
		if err != nil {
			return "", fmt.Errorf("find conversation: %w", err)
		}
	}
	if th.Lasting {
		b.p.conversations[key] = id
	} else {
		b.p.chats[key] = id
	}
	return id, nil
}

// NewMessage is an inbound message to store.
type NewMessage struct {
	ID             string
	WorkspaceID    string
	IntegrationID  string
	ConversationID string
	ConnectionID   string
	Message        *domain.InboundMessage
}

// InsertMessages writes messages with multi-row inserts and returns the
// ids that were new; the others repeated a stored external id.
func (b *Batch) InsertMessages(ctx context.Context, msgs []NewMessage) (map[string]struct{}, error) {
	inserted := make(map[string]struct{}, len(msgs))
	for start := 0; start < len(msgs); start += maxRowsPerInsert {
		chunk := msgs[start:min(start+maxRowsPerInsert, len(msgs))]
		// Most batches carry an app's plain messages: their chat columns
		// keep the tables' defaults rather than binding three empty values
		// per row.
		chat := false
		for _, nm := range chunk {
			if nm.ConnectionID != "" || nm.Message.MediaURL != "" || nm.Message.MediaCaption != "" {
				chat = true
				break
			}
		}
		cols, row := 11, "(?,?,?,?,?,?,?,?,?,?,?)"
		var q strings.Builder
		q.WriteString(`INSERT INTO messages (id, workspace_id, integration_id, conversation_id, direction, external_id, content, content_type, sent_at, status, created_at`)
		if chat {
			cols, row = 14, "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
			q.WriteString(`, media_url, media_caption, connection_id`)
		}
		q.WriteString(`) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, nm := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(row)
			m := nm.Message
			args = append(args, nm.ID, nm.WorkspaceID, nm.IntegrationID, nm.ConversationID, domain.Inbound,
				m.ExternalID, m.Content, m.ContentType, m.SentAt, domain.MessageReceived, b.t)
			if chat {
				args = append(args, m.MediaURL, m.MediaCaption, nm.ConnectionID)
			}
		}
		q.WriteString(` ON CONFLICT (integration_id, external_id) DO NOTHING RETURNING id`)
		rows, err := b.in.query(ctx, q.String(), args...)
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

// ConversationActivity is a conversation's newest activity in a batch.
type ConversationActivity struct {
	ConversationID string
	At             time.Time
}

// TouchConversations moves each conversation's last activity forward to
// its At, never back, with one statement for up to 64 conversations. It
// sorts acts by conversation id first, so that concurrent batches (of two
// hub processes, say) ask for the rows' locks in one order.
func (b *Batch) TouchConversations(ctx context.Context, acts []ConversationActivity) error {
	slices.SortFunc(acts, func(x, y ConversationActivity) int { return strings.Compare(x.ConversationID, y.ConversationID) })
	for len(acts) > 0 {
		size := lookupSize(len(acts))
		chunk := acts[:min(size, len(acts))]
		acts = acts[len(chunk):]
		args := make([]any, 0, 2*size)
		for i := range size {
			// Padded with the last one again: updating a row twice to the
			// same time is harmless.
			a := chunk[min(i, len(chunk)-1)]
			args = append(args, a.ConversationID, activityTime(a.At))
		}
		if _, err := b.in.exec(ctx, b.in.s.touchQueries[size], args...); err != nil {
			return fmt.Errorf("touch conversations: %w", err)
		}
	}
	return nil
}

// touchQueries are TouchConversations' statements, by how many
// conversations they take.
func touchQueries(dialect string) map[int]string {
	row := "(?,?)"
	if dialect == "postgres" {
		row = "(?,CAST(? AS TIMESTAMPTZ))"
	}
	qs := map[int]string{}
	for _, n := range []int{1, 8, 64} {
		qs[n] = `UPDATE conversations SET last_message_at = v.column2 FROM (VALUES ` +
			strings.TrimSuffix(strings.Repeat(row+",", n), ",") + `) AS v
			WHERE conversations.id = v.column1 AND (conversations.last_message_at IS NULL OR conversations.last_message_at < v.column2)`
	}
	return qs
}

// TouchChat records on a chat the connection and sender of its contact's
// latest message and when it came, if it is later than the one recorded.
func (b *Batch) TouchChat(ctx context.Context, id, connectionID, channel, sender string, at time.Time) error {
	at = activityTime(at)
	if _, err := b.in.exec(ctx, `UPDATE conversations SET connection_id = ?, channel = ?, sender = ?, last_inbound_at = ?
		WHERE id = ? AND (last_inbound_at IS NULL OR last_inbound_at < ?)`,
		connectionID, channel, sender, at, id, at); err != nil {
		return fmt.Errorf("touch chat: %w", err)
	}
	return nil
}

// QueueDeliveries queues the deliveries an event causes; they are written
// with the rest of the batch's, in order, before the commit (see
// writeDeliveries), ordered ones held behind earlier pending deliveries of
// their key. ev and ds are kept until then and must not change.
func (b *Batch) QueueDeliveries(ev *domain.OutboundEvent, ds []NewDelivery) {
	b.deliveries = append(b.deliveries, queued(ev, ds)...)
}

// writeDeliveries writes the batch's deliveries with one lookup of earlier
// pending ones and one insert per 500.
func (b *Batch) writeDeliveries(ctx context.Context) error {
	if len(b.deliveries) == 0 {
		return nil
	}
	keys, err := insertDeliveries(ctx, b.in.exec, b.in.query, b.deliveries, b.t)
	if err != nil {
		return err
	}
	b.in.heldKeys = append(b.in.heldKeys, keys...)
	return nil
}

// maxRowsPerInsert keeps a multi-row insert under both databases' limits on bound parameters.
const maxRowsPerInsert = 500
