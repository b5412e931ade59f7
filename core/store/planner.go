package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

// NewDelivery is a delivery to write with the event that causes it.
type NewDelivery struct {
	TargetType     string
	SubscriptionID string
	// OrderingKey groups deliveries that must go out in order (one
	// conversation to one target); empty for unordered ones.
	OrderingKey string
	EventType   string
	Payload     []byte
	// Status is pending, or failed when the target is disabled.
	Status    string
	LastError string
}

type execFunc func(ctx context.Context, q string, args ...any) (sql.Result, error)

// gormExec runs SQL with ? placeholders inside a GORM transaction.
func gormExec(tx *gorm.DB) execFunc {
	return func(ctx context.Context, q string, args ...any) (sql.Result, error) {
		res := tx.WithContext(ctx).Exec(q, args...)
		return nil, res.Error
	}
}

type queryFunc func(ctx context.Context, q string, args ...any) (*sql.Rows, error)

// gormQuery reads rows with ? placeholders inside a GORM transaction.
func gormQuery(tx *gorm.DB) queryFunc {
	return func(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
		return tx.WithContext(ctx).Raw(q, args...).Rows()
	}
}

// queuedDelivery is a delivery to write and the event that causes it.
type queuedDelivery struct {
	ev *domain.OutboundEvent
	d  NewDelivery
}

// queued pairs each of an event's deliveries with it.
func queued(ev *domain.OutboundEvent, ds []NewDelivery) []queuedDelivery {
	qs := make([]queuedDelivery, len(ds))
	for i, d := range ds {
		qs[i] = queuedDelivery{ev: ev, d: d}
	}
	return qs
}

// insertDeliveries writes deliveries with multi-row inserts, in order. An
// ordered delivery is held when an earlier delivery of its ordering key is
// pending, in the table or earlier in qs; holding is only an index hint for
// the claim, which checks order itself. It returns the ordering keys of the
// deliveries it held, which the caller passes to releaseHeadsAfterCommit
// once the transaction has committed.
func insertDeliveries(ctx context.Context, exec execFunc, query queryFunc, qs []queuedDelivery, t time.Time) ([]string, error) {
	const cols = 15
	pending, err := pendingKeys(ctx, query, qs)
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: find earlier deliveries: %w", err)
	}
	held := make([]bool, len(qs))
	var heldKeys []string // each once
	heldSet := map[string]struct{}{}
	for i, q := range qs {
		if !ordered(q.d) {
			continue
		}
		if _, ok := pending[q.d.OrderingKey]; ok {
			held[i] = true
			if _, dup := heldSet[q.d.OrderingKey]; !dup {
				heldSet[q.d.OrderingKey] = struct{}{}
				heldKeys = append(heldKeys, q.d.OrderingKey)
			}
		}
		pending[q.d.OrderingKey] = struct{}{} // later ones of the key wait behind this one
	}
	for start := 0; start < len(qs); start += maxRowsPerInsert {
		chunk := qs[start:min(start+maxRowsPerInsert, len(qs))]
		var b strings.Builder
		b.WriteString(`INSERT INTO deliveries (id, workspace_id, integration_id, conversation_id, message_id, event_type, payload,
			target_type, subscription_id, ordering_key, held, status, last_error, next_attempt_at, created_at, attempt_count, claimed_by, updated_at) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, q := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,'',?)")
			ev, d := q.ev, q.d
			msgID := ""
			if ev.Message != nil {
				msgID = ev.Message.ID
			}
			status := d.Status
			if status == "" {
				status = domain.DeliveryPending
			}
			args = append(args, NewID(), ev.WorkspaceID, ev.IntegrationID, ev.Conversation.ID, msgID, d.EventType, string(d.Payload),
				d.TargetType, d.SubscriptionID, d.OrderingKey, held[start+i], status, d.LastError, t, t, t)
		}
		if _, err := exec(ctx, b.String(), args...); err != nil {
			return nil, fmt.Errorf("insert deliveries: %w", err)
		}
	}
	return heldKeys, nil
}

// ordered says whether d waits behind earlier deliveries of its key.
func ordered(d NewDelivery) bool {
	return d.OrderingKey != "" && d.Status != domain.DeliveryFailed
}

// pendingKeys returns which of the ordering keys of qs have a pending
// delivery already, asking for up to 64 keys at a time.
func pendingKeys(ctx context.Context, query queryFunc, qs []queuedDelivery) (map[string]struct{}, error) {
	var keys []any
	seen := map[string]struct{}{}
	for _, q := range qs {
		if _, dup := seen[q.d.OrderingKey]; ordered(q.d) && !dup {
			seen[q.d.OrderingKey] = struct{}{}
			keys = append(keys, q.d.OrderingKey)
		}
	}
	pending := map[string]struct{}{}
	for len(keys) > 0 {
		size := lookupSize(len(keys))
		chunk := keys[:min(size, len(keys))]
		keys = keys[len(chunk):]
		err := eachString(query(ctx, pendingKeysQueries[size], padded(chunk, size)...))(func(k string) {
			pending[k] = struct{}{}
		})
		if err != nil {
			return nil, err
		}
	}
	return pending, nil
}

// eachString calls fn with the one text column of each row a query
// returned, then closes the rows; it reports the query's error first.
func eachString(rows *sql.Rows, err error) func(fn func(string)) error {
	return func(fn func(string)) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			fn(v)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return rows.Close()
	}
}

// Statements over many keys or rows go in a few fixed sizes, padded with
// their last one, so that each size is one prepared statement.
func lookupSize(n int) int {
	switch {
	case n <= 1:
		return 1
	case n <= 8:
		return 8
	}
	return 64
}

// padded returns args repeated at its end to size.
func padded(args []any, size int) []any {
	out := make([]any, size)
	for i := range out {
		out[i] = args[min(i, len(args)-1)]
	}
	return out
}

// releaseHeadsAfterCommit clears the hold of the first pending delivery of
// each key, once the transactions that held or finished deliveries of those
// keys have committed.
//
// On PostgreSQL a writer may hold a new delivery because it saw an earlier
// one pending, while the worker finishing that earlier one, in a
// transaction the writer cannot see, releases the head it can see, which is
// not the new one yet. Each side releases again after its own commit: of
// two transactions, one commits first, so the other's release, made after
// its own later commit, sees both. No hold waits for the repair sweep.
// SQLite runs one write transaction at a time, so there the release inside
// the transaction is enough.
//
// The release outlives ctx: a caller whose request ends right after its
// commit (a client hanging up) must not leave the heads it held.
func (s *Store) releaseHeadsAfterCommit(ctx context.Context, keys []string) {
	if s.dialect != "postgres" || len(keys) == 0 {
		return
	}
	if err := s.releaseHeadsOf(context.WithoutCancel(ctx), s.sql.ExecContext, keys); err != nil {
		// The repair sweep releases them later.
		s.log.Warn("release delivery heads", "keys", len(keys), "err", err)
	}
}

// releaseHeadsOf clears the hold of the first pending delivery of each key.
func (s *Store) releaseHeadsOf(ctx context.Context, exec func(context.Context, string, ...any) (sql.Result, error), keys []string) error {
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	// Up to 64 keys a statement, padded: a few statement texts, far from
	// either database's limit on bound values however large the batch.
	for len(args) > 0 {
		size := lookupSize(len(args))
		chunk := args[:min(size, len(args))]
		args = args[len(chunk):]
		if _, err := exec(ctx, s.rebind(releaseHeadsQuery(size)), padded(chunk, size)...); err != nil {
			return err
		}
	}
	return nil
}

// The queue's queries name pending and held as literals, as the partial
// indexes' predicates do (migration 0010), so that both databases use them.

// pendingKeysQueries find which of 1, 8 or 64 ordering keys have a pending delivery.
var pendingKeysQueries = func() map[int]string {
	qs := map[int]string{}
	for _, n := range []int{1, 8, 64} {
		qs[n] = `SELECT DISTINCT ordering_key FROM deliveries WHERE status = 'pending' AND ordering_key IN (` + placeholders(n) + `)`
	}
	return qs
}()

// releaseHeadsQuery clears the hold of the first pending delivery of each of n keys.
func releaseHeadsQuery(n int) string {
	return `UPDATE deliveries SET held = FALSE WHERE held = TRUE AND id IN (SELECT MIN(id) FROM deliveries
		WHERE status = 'pending' AND ordering_key IN (` + placeholders(n) + `) GROUP BY ordering_key)`
}
