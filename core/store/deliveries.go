package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

// DeliveryFilter narrows a delivery listing.
type DeliveryFilter struct {
	IntegrationID string
	Status        string
}

// Deliveries lists a workspace's deliveries, newest first.
func (s *Store) Deliveries(ctx context.Context, workspaceID string, f DeliveryFilter, page domain.Page) ([]domain.Delivery, string, error) {
	q := s.db.WithContext(ctx).Model(&deliveryRow{}).Where("workspace_id = ?", workspaceID)
	if f.IntegrationID != "" {
		q = q.Where("integration_id = ?", f.IntegrationID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	rows, next, err := paginate(q, page, func(r *deliveryRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list deliveries: %w", err)
	}
	out := make([]domain.Delivery, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// Delivery returns one delivery with its attempts, oldest attempt first.
func (s *Store) Delivery(ctx context.Context, workspaceID, id string) (domain.Delivery, error) {
	var row deliveryRow
	if err := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
		return domain.Delivery{}, notFound("fetch delivery "+id, err)
	}
	var attempts []deliveryAttemptRow
	if err := s.db.WithContext(ctx).Where("delivery_id = ?", id).Order("n ASC").Find(&attempts).Error; err != nil {
		return domain.Delivery{}, fmt.Errorf("store: fetch attempts of %s: %w", id, err)
	}
	d := row.domain()
	d.Attempts = make([]domain.Attempt, len(attempts))
	for i, a := range attempts {
		d.Attempts[i] = domain.Attempt{N: a.N, StatusCode: a.StatusCode, DurationMs: a.DurationMs,
			Error: a.Error, ResponseExcerpt: a.ResponseExcerpt, At: a.At.UTC()}
	}
	return d, nil
}

// RetryDelivery schedules a dead or failed delivery for an attempt now.
func (s *Store) RetryDelivery(ctx context.Context, workspaceID, id string) (domain.Delivery, error) {
	t := now()
	res := s.db.WithContext(ctx).Model(&deliveryRow{}).
		Where("workspace_id = ? AND id = ? AND status IN ?", workspaceID, id, []string{domain.DeliveryDead, domain.DeliveryFailed}).
		Updates(map[string]any{"status": domain.DeliveryPending, "next_attempt_at": t, "claimed_until": nil, "updated_at": t})
	if res.Error != nil {
		return domain.Delivery{}, fmt.Errorf("store: retry delivery %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		d, err := s.Delivery(ctx, workspaceID, id)
		if err != nil {
			return domain.Delivery{}, err
		}
		return d, fmt.Errorf("store: retry delivery %s in status %s: %w", id, d.Status, ErrConflict)
	}
	return s.Delivery(ctx, workspaceID, id)
}

// ClaimedDelivery is a delivery a worker holds until its claim expires.
type ClaimedDelivery struct {
	domain.Delivery
	ClaimedBy string
}

// ClaimDeliveries takes up to limit due deliveries for worker, holding them
// for lease. On PostgreSQL, concurrent workers skip each other's rows; a
// worker that dies loses its claim when the lease runs out.
func (s *Store) ClaimDeliveries(ctx context.Context, worker string, limit int, lease time.Duration) ([]ClaimedDelivery, error) {
	t := now()
	lock := ""
	if s.dialect == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE deliveries SET claimed_until = ?, claimed_by = ?
		WHERE id IN (SELECT id FROM deliveries
			WHERE status = ? AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)
			ORDER BY next_attempt_at LIMIT ?` + lock + `)
		RETURNING id, workspace_id, integration_id, conversation_id, message_id, event_type, payload, attempt_count, created_at`
	rows, err := s.sql.QueryContext(ctx, s.rebind(q), t.Add(lease), worker, domain.DeliveryPending, t, t, limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	defer rows.Close()
	var out []ClaimedDelivery
	for rows.Next() {
		var d ClaimedDelivery
		var payload string
		if err := rows.Scan(&d.ID, &d.WorkspaceID, &d.IntegrationID, &d.ConversationID, &d.MessageID,
			&d.EventType, &payload, &d.AttemptCount, &d.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: claim deliveries: %w", err)
		}
		d.Payload = []byte(payload)
		d.Status = domain.DeliveryPending
		d.ClaimedBy = worker
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	return out, nil
}

// AttemptOutcome is the result of one attempt and what follows from it.
type AttemptOutcome struct {
	Attempt domain.Attempt
	// Status is the delivery's status after the attempt.
	Status        string
	NextAttemptAt time.Time
}

// RecordAttempt stores an attempt and moves the delivery on, if the worker
// still holds it. It reports whether the claim was still held.
func (s *Store) RecordAttempt(ctx context.Context, d ClaimedDelivery, o AttemptOutcome) (bool, error) {
	held := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		set := map[string]any{
			"status":        o.Status,
			"attempt_count": o.Attempt.N,
			"last_error":    o.Attempt.Error,
			"claimed_until": nil,
			"claimed_by":    "",
			"updated_at":    now(),
		}
		if !o.NextAttemptAt.IsZero() {
			set["next_attempt_at"] = o.NextAttemptAt
		}
		res := tx.Model(&deliveryRow{}).Where("id = ? AND claimed_by = ? AND status = ?", d.ID, d.ClaimedBy, domain.DeliveryPending).Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
		held = true
		a := o.Attempt
		return tx.Create(&deliveryAttemptRow{ID: NewID(), DeliveryID: d.ID, N: a.N, StatusCode: a.StatusCode,
			DurationMs: a.DurationMs, Error: a.Error, ResponseExcerpt: a.ResponseExcerpt, At: a.At}).Error
	})
	if err != nil {
		return false, fmt.Errorf("store: record attempt of %s: %w", d.ID, err)
	}
	return held, nil
}

// NextDueDelivery returns when the earliest pending delivery is due, or
// false when none is pending.
func (s *Store) NextDueDelivery(ctx context.Context) (time.Time, bool, error) {
	var row deliveryRow
	err := s.db.WithContext(ctx).Select("next_attempt_at").Where("status = ?", domain.DeliveryPending).
		Order("next_attempt_at ASC").Limit(1).Take(&row).Error
	if err == gorm.ErrRecordNotFound {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next due delivery: %w", err)
	}
	return row.NextAttemptAt.UTC(), true, nil
}
