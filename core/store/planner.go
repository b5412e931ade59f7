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

// gormQueryRow reads one row with ? placeholders inside a GORM transaction.
func (s *Store) gormQueryRow(tx *gorm.DB) queryRowFunc {
	return func(ctx context.Context, q string, args ...any) *sql.Row {
		return tx.WithContext(ctx).Raw(q, args...).Row()
	}
}

type queryRowFunc func(ctx context.Context, q string, args ...any) *sql.Row

// insertDeliveries writes deliveries with multi-row inserts. An ordered
// delivery is held when an earlier delivery of its ordering key is pending;
// holding is only an index hint for the claim, which checks order itself.
// It returns the ordering keys of the deliveries it held, which the caller
// passes to releaseHeadsAfterCommit once the transaction has committed.
func insertDeliveries(ctx context.Context, exec execFunc, queryRow queryRowFunc, ev *domain.OutboundEvent, ds []NewDelivery, t time.Time) ([]string, error) {
	const cols = 15
	held := make([]bool, len(ds))
	var heldKeys []string
	for i, d := range ds {
		if d.OrderingKey == "" || d.Status == domain.DeliveryFailed {
			continue
		}
		var one int
		err := queryRow(ctx, pendingOfKeyQuery, d.OrderingKey).Scan(&one)
		switch {
		case err == nil:
			held[i] = true
			heldKeys = append(heldKeys, d.OrderingKey)
		case err != sql.ErrNoRows:
			return nil, fmt.Errorf("insert deliveries: find earlier deliveries: %w", err)
		}
	}
	for start := 0; start < len(ds); start += maxRowsPerInsert {
		chunk := ds[start:min(start+maxRowsPerInsert, len(ds))]
		var b strings.Builder
		b.WriteString(`INSERT INTO deliveries (id, workspace_id, integration_id, conversation_id, message_id, event_type, payload,
			target_type, subscription_id, ordering_key, held, status, last_error, next_attempt_at, created_at, attempt_count, claimed_by, updated_at) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, d := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,'',?)")
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
	_, err := exec(ctx, s.rebind(releaseHeadsQuery(len(keys))), args...)
	return err
}

// The queue's queries name pending and held as literals, as the partial
// indexes' predicates do (migration 0010), so that both databases use them.
const pendingOfKeyQuery = `SELECT 1 FROM deliveries WHERE ordering_key = ? AND status = 'pending' LIMIT 1`

// releaseHeadsQuery clears the hold of the first pending delivery of each of n keys.
func releaseHeadsQuery(n int) string {
	return `UPDATE deliveries SET held = FALSE WHERE held = TRUE AND id IN (SELECT MIN(id) FROM deliveries
		WHERE status = 'pending' AND ordering_key IN (` + placeholders(n) + `) GROUP BY ordering_key)`
}
