package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
)

// StatusReport is a provider's report on a message sent through a connection.
type StatusReport struct {
	ExternalID string
	Status     string
	Error      string
}

// recordProviderSend moves a message sent through a provider on with its
// delivery: once the provider took it, the message carries the provider's
// id (and any report that arrived before is applied); once the provider
// refused it for good, or every retry failed, the message has failed with
// the provider's reason.
func (s *Store) recordProviderSend(ctx context.Context, tx *sql.Tx, o *AttemptOutcome) error {
	d := o.Delivery
	switch o.Status {
	case domain.DeliverySucceeded:
		if o.ProviderMessageID == "" {
			return nil
		}
		if err := s.lockReceipt(ctx, tx, o.ConnectionID, o.ProviderMessageID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.rebind(`UPDATE messages SET provider_message_id = ?, connection_id = ? WHERE id = ?`),
			o.ProviderMessageID, o.ConnectionID, d.MessageID)
		if err != nil {
			return fmt.Errorf("record provider message id: %w", err)
		}
		return s.applyEarlyReceipts(ctx, tx, o.ConnectionID, o.ProviderMessageID, d.MessageID)
	case domain.DeliveryFailed, domain.DeliveryDead:
		_, err := tx.ExecContext(ctx, s.rebind(`UPDATE messages SET status = ?, error = ? WHERE id = ? AND status <> ?`),
			domain.MessageFailed, o.Attempt.Error, d.MessageID, domain.MessageDelivered)
		if err != nil {
			return fmt.Errorf("fail provider message: %w", err)
		}
	}
	return nil
}

// applyEarlyReceipts applies the reports that arrived before the send was
// recorded, in the order they came, and drops them.
func (s *Store) applyEarlyReceipts(ctx context.Context, tx *sql.Tx, connectionID, externalID, messageID string) error {
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT status, error FROM message_receipts WHERE connection_id = ? AND external_id = ? ORDER BY id`),
		connectionID, externalID)
	if err != nil {
		return fmt.Errorf("read early receipts: %w", err)
	}
	var reports []StatusReport
	for rows.Next() {
		var r StatusReport
		if err := rows.Scan(&r.Status, &r.Error); err != nil {
			rows.Close()
			return fmt.Errorf("read early receipts: %w", err)
		}
		reports = append(reports, r)
	}
	rows.Close()
	if len(reports) == 0 {
		return nil
	}
	for _, r := range reports {
		if err := s.advanceMessage(ctx, tx, messageID, r); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, s.rebind(`DELETE FROM message_receipts WHERE connection_id = ? AND external_id = ?`), connectionID, externalID)
	return err
}

// advanceMessage applies a report to a message if it moves it forward.
func (s *Store) advanceMessage(ctx context.Context, tx *sql.Tx, messageID string, r StatusReport) error {
	var cur string
	err := tx.QueryRowContext(ctx, s.rebind(`SELECT status FROM messages WHERE id = ?`), messageID).Scan(&cur)
	if err != nil {
		return fmt.Errorf("read message status: %w", err)
	}
	if !domain.MessageStatusAdvances(cur, r.Status) {
		return nil
	}
	_, err = tx.ExecContext(ctx, s.rebind(`UPDATE messages SET status = ?, error = ? WHERE id = ?`), r.Status, boundText(r.Error, maxAttemptText), messageID)
	if err != nil {
		return fmt.Errorf("update message status: %w", err)
	}
	return nil
}

// lockReceipt serialises, on PostgreSQL, recording a send's provider id
// with applying reports on that id: without it, a report could miss the
// message (not yet committed) while the send missed the report (not yet
// committed either), and the report would wait forever. SQLite has one
// writer, and the in-process write lock, already.
func (s *Store) lockReceipt(ctx context.Context, tx *sql.Tx, connectionID, externalID string) error {
	if s.dialect != "postgres" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 11))`, "receipt:"+connectionID+":"+externalID); err != nil {
		return fmt.Errorf("store: lock provider message %s: %w", externalID, err)
	}
	return nil
}

// lockReceipts takes lockReceipt for every reported id, in one order, so
// two callbacks naming the same ids cannot wait on each other.
func (s *Store) lockReceipts(ctx context.Context, tx *sql.Tx, connectionID string, reports []StatusReport) error {
	ids := make([]string, 0, len(reports))
	for _, r := range reports {
		ids = append(ids, r.ExternalID)
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if err := s.lockReceipt(ctx, tx, connectionID, id); err != nil {
			return err
		}
	}
	return nil
}

// maxEarlyReceiptAge is how long a report for an unknown message is kept
// waiting for its send to be recorded.
const maxEarlyReceiptAge = 24 * time.Hour

// ApplyStatusReports applies a provider's reports on messages sent through
// a connection. A report on a message not yet known (its send is still
// being recorded) is kept and applied when it is. It returns how many
// reports matched a message.
func (s *Store) ApplyStatusReports(ctx context.Context, connectionID string, reports []StatusReport) (int, error) {
	matched := 0
	unlock := s.lockWrites()
	defer unlock()
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: apply status reports: %w", err)
	}
	defer tx.Rollback()
	if err := s.lockReceipts(ctx, tx, connectionID, reports); err != nil {
		return 0, err
	}
	t := now()
	for _, r := range reports {
		var id string
		err := tx.QueryRowContext(ctx, s.rebind(`SELECT id FROM messages WHERE connection_id = ? AND connection_id <> '' AND provider_message_id = ? AND direction = ?`),
			connectionID, r.ExternalID, domain.Outbound).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO message_receipts (id, connection_id, external_id, status, error, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
				NewID(), connectionID, r.ExternalID, r.Status, boundText(r.Error, maxAttemptText), t)
			if err != nil {
				return 0, fmt.Errorf("store: keep early status report: %w", err)
			}
		case err != nil:
			return 0, fmt.Errorf("store: find reported message: %w", err)
		default:
			matched++
			if err := s.advanceMessage(ctx, tx, id, r); err != nil {
				return 0, fmt.Errorf("store: %w", err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM message_receipts WHERE created_at < ?`), t.Add(-maxEarlyReceiptAge)); err != nil {
		return 0, fmt.Errorf("store: drop old status reports: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: apply status reports: %w", err)
	}
	return matched, nil
}
