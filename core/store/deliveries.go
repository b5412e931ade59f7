package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
	rows, next, err := paginate(deliveriesOf(s.db.WithContext(ctx), workspaceID, f), page, func(r *deliveryRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list deliveries: %w", err)
	}
	out := make([]domain.Delivery, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// deliveriesOf selects a workspace's deliveries that match f.
func deliveriesOf(db *gorm.DB, workspaceID string, f DeliveryFilter) *gorm.DB {
	q := db.Model(&deliveryRow{}).Where("workspace_id = ?", workspaceID)
	if f.IntegrationID != "" {
		q = q.Where("integration_id = ?", f.IntegrationID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
		if f.Status == domain.DeliveryFailed || f.Status == domain.DeliveryDead {
			// The same words as idx_deliveries_unsent's predicate, so
			// that both databases list these few from it (migration 0011).
			q = q.Where("status IN ('failed', 'dead')")
		}
	}
	return q
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
		if a.Logs != "" {
			json.Unmarshal([]byte(a.Logs), &d.Attempts[i].Logs)
		}
	}
	return d, nil
}

// RetryDelivery schedules a dead or failed delivery for an attempt now.
func (s *Store) RetryDelivery(ctx context.Context, workspaceID, id string) (domain.Delivery, error) {
	t := now()
	res := s.db.WithContext(ctx).Model(&deliveryRow{}).
		Where("workspace_id = ? AND id = ? AND status IN ?", workspaceID, id, []string{domain.DeliveryDead, domain.DeliveryFailed}).
		Updates(map[string]any{"status": domain.DeliveryPending, "next_attempt_at": t, "claimed_until": nil, "held": false, "updated_at": t})
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
	if err := s.requeueReplies(ctx, workspaceID); err != nil {
		return domain.Delivery{}, err
	}
	return s.Delivery(ctx, workspaceID, id)
}

// ClaimedDelivery is a delivery a worker holds until its claim expires.
type ClaimedDelivery struct {
	domain.Delivery
	OrderingKey string
	ClaimedBy   string
}

// ClaimDeliveries takes up to limit due deliveries for worker, holding them
// for lease. A delivery waits while an earlier delivery with its ordering
// key (same conversation, same target) is still pending, so a conversation's
// deliveries go out in order while other conversations pass. On PostgreSQL
// concurrent workers skip each other's rows; a worker that dies loses its
// claim when the lease runs out.
func (s *Store) ClaimDeliveries(ctx context.Context, worker string, limit int, lease time.Duration) ([]ClaimedDelivery, error) {
	t := now()
	// A claim moves next_attempt_at to the lease's end, so deliveries in
	// flight fall out of the index range the next claim scans, and come back
	// by themselves if their worker dies. Held deliveries are skipped by
	// index; the NOT EXISTS check keeps order even where a hint is wrong.
	// Pending and held are literals, as in the partial indexes' predicates
	// (migration 0010), so that both databases use those indexes.
	q := s.claimQuery()
	until := t.Add(lease)
	unlock := s.lockWrites()
	defer unlock()
	rows, err := s.sql.QueryContext(ctx, q, until, worker, until, t, limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	defer rows.Close()
	var out []ClaimedDelivery
	for rows.Next() {
		var d ClaimedDelivery
		var payload string
		if err := rows.Scan(&d.ID, &d.WorkspaceID, &d.IntegrationID, &d.ConversationID, &d.MessageID,
			&d.EventType, &payload, &d.TargetType, &d.SubscriptionID, &d.OrderingKey, &d.AttemptCount, &d.CreatedAt); err != nil {
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

// claimQuery takes (claimed_until, claimed_by, next_attempt_at, now, limit).
func (s *Store) claimQuery() string {
	lock := ""
	if s.dialect == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	return s.rebind(`UPDATE deliveries SET claimed_until = ?, claimed_by = ?, next_attempt_at = ?
		WHERE id IN (SELECT d.id FROM deliveries d
			WHERE d.status = 'pending' AND d.held = FALSE AND d.next_attempt_at <= ?
			AND (d.ordering_key = '' OR NOT EXISTS (SELECT 1 FROM deliveries e
				WHERE e.ordering_key = d.ordering_key AND e.status = 'pending' AND e.id < d.id))
			ORDER BY d.next_attempt_at LIMIT ?` + lock + `)
		RETURNING id, workspace_id, integration_id, conversation_id, message_id, event_type, payload,
			target_type, subscription_id, ordering_key, attempt_count, created_at`)
}

// ReleaseClaims gives back claims worker holds but has not attempted, so
// they are due again now.
func (s *Store) ReleaseClaims(ctx context.Context, worker string, ids []string) error {
	return s.DeferClaims(ctx, worker, ids, now())
}

// DeferClaims gives back claims worker holds but has not attempted, due
// again at until; no attempt is recorded.
func (s *Store) DeferClaims(ctx context.Context, worker string, ids []string, until time.Time) error {
	unlock := s.lockWrites()
	defer unlock()
	for start := 0; start < len(ids); start += maxRowsPerInsert {
		chunk := ids[start:min(start+maxRowsPerInsert, len(ids))]
		args := []any{until.UTC(), worker}
		for _, id := range chunk {
			args = append(args, id)
		}
		q := `UPDATE deliveries SET claimed_until = NULL, claimed_by = '', next_attempt_at = ?
			WHERE claimed_by = ? AND status = 'pending' AND id IN (` + placeholders(len(chunk)) + `)`
		if _, err := s.sql.ExecContext(ctx, s.rebind(q), args...); err != nil {
			return fmt.Errorf("store: release %d claims: %w", len(chunk), err)
		}
	}
	return nil
}

// AttemptOutcome is the result of one attempt and what follows from it.
type AttemptOutcome struct {
	Delivery ClaimedDelivery
	Attempt  domain.Attempt
	// Status is the delivery's status after the attempt.
	Status        string
	NextAttemptAt time.Time
	// TargetFailed says whether the target itself failed (network error,
	// non-2xx), which counts towards disabling it; a script error does not.
	TargetFailed bool
	// TargetOK says the target answered 2xx, which clears its failure state.
	TargetOK bool
	// ProviderMessageID is the provider's id of a message a provider
	// delivery sent, and ConnectionID the connection it went through.
	ProviderMessageID string
	ConnectionID      string
}

// DisabledTarget is a target RecordAttempts disabled.
type DisabledTarget struct {
	TargetType    string
	ID            string
	WorkspaceID   string
	IntegrationID string
	FailingSince  time.Time
}

// Bounds of the text an attempt keeps, after sanitizing (see boundText).
const (
	maxAttemptText = 4 << 10
	maxAttemptLog  = 16 << 10
)

// RecordAttempts stores a batch of attempts in one transaction, moving each
// delivery on if its worker still holds it, and keeps the targets' health:
// a success clears a target's failure state; a target failing continuously
// for disableAfter is disabled, its pending deliveries failed and, for an
// integration, its event log told. It reports which claims were still held.
//
// Every text it writes (errors, response excerpts, console logs) is made
// valid UTF-8 without NUL bytes, which PostgreSQL refuses, and bounded. If
// the batch's transaction fails all the same, each outcome is recorded again
// in a transaction of its own, so one outcome the database refuses cannot
// hold back the others, of any workspace: those then fail alone, held[i] is
// false for them, and the error names how many failed.
//
// It runs for every batch of attempts, so it is plain SQL: one update for the
// whole batch, one multi-row insert of the attempts, one release.
func (s *Store) RecordAttempts(ctx context.Context, outcomes []AttemptOutcome, disableAfter time.Duration) ([]bool, []DisabledTarget, error) {
	clean := make([]AttemptOutcome, len(outcomes))
	for i, o := range outcomes {
		clean[i] = o
		a := &clean[i].Attempt
		a.Error = boundText(a.Error, maxAttemptText)
		a.ResponseExcerpt = boundText(a.ResponseExcerpt, maxAttemptText)
		if len(a.Logs) > 0 {
			a.Logs = make([]string, len(o.Attempt.Logs))
			for j, l := range o.Attempt.Logs {
				a.Logs[j] = boundText(l, maxAttemptLog)
			}
		}
	}
	held, disabled, err := s.recordAttempts(ctx, clean, disableAfter)
	if err == nil || len(clean) == 1 || ctx.Err() != nil || isConnectionError(err) {
		return held, disabled, err
	}
	s.log.Warn("recording a batch of delivery attempts failed; recording them one by one", "count", len(clean), "err", err)
	held = make([]bool, len(clean))
	disabled = nil
	var failed []error
	for i := range clean {
		h, d, err := s.recordAttempts(ctx, clean[i:i+1], disableAfter)
		if err != nil {
			failed = append(failed, fmt.Errorf("delivery %s: %w", clean[i].Delivery.ID, err))
			continue
		}
		held[i] = h[0]
		disabled = append(disabled, d...)
	}
	if len(failed) > 0 {
		return held, disabled, fmt.Errorf("store: %d of %d attempts not recorded: %w", len(failed), len(clean), errors.Join(failed...))
	}
	return held, disabled, nil
}

func (s *Store) recordAttempts(ctx context.Context, outcomes []AttemptOutcome, disableAfter time.Duration) ([]bool, []DisabledTarget, error) {
	held := make([]bool, len(outcomes))
	var disabled []DisabledTarget
	var finished []string
	unlock := s.lockWrites()
	defer unlock()
	err := s.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		disabled = disabled[:0]
		tx, ok := gtx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return fmt.Errorf("record attempts: not in a database/sql transaction")
		}
		t := now()
		heldIDs, err := s.finishClaims(ctx, tx, outcomes, t)
		if err != nil {
			return err
		}
		type health struct {
			ok, failed bool
			o          *AttemptOutcome
		}
		targets := map[string]*health{}
		replies := map[string][]any{} // message status → outbound messages whose delivery ended
		finished = finished[:0]       // ordering keys whose head is done
		var ins strings.Builder
		args := make([]any, 0, len(outcomes)*9)
		for i := range outcomes {
			o := &outcomes[i]
			d := o.Delivery
			_, held[i] = heldIDs[d.ID]
			if !held[i] {
				continue
			}
			a := o.Attempt
			logs := ""
			if len(a.Logs) > 0 {
				b, _ := json.Marshal(a.Logs)
				logs = string(b)
			}
			if len(args) == 0 {
				ins.WriteString(`INSERT INTO delivery_attempts (id, delivery_id, n, status_code, duration_ms, error, response_excerpt, logs, at) VALUES `)
			} else {
				ins.WriteByte(',')
			}
			ins.WriteString("(?,?,?,?,?,?,?,?,?)")
			args = append(args, NewID(), d.ID, a.N, a.StatusCode, a.DurationMs, a.Error, a.ResponseExcerpt, logs, a.At)
			if o.Status != domain.DeliveryPending && d.OrderingKey != "" {
				finished = append(finished, d.OrderingKey)
			}
			if d.TargetType == domain.TargetIntegration && d.EventType == domain.EventMessageSent && d.MessageID != "" && o.Status != domain.DeliveryPending {
				st := domain.MessageStatusOf(o.Status)
				replies[st] = append(replies[st], d.MessageID)
			}
			if d.TargetType == domain.TargetProvider && d.MessageID != "" {
				if err := s.recordProviderSend(ctx, tx, o); err != nil {
					return err
				}
				continue
			}
			key := d.TargetType + ":" + targetID(d)
			h := targets[key]
			if h == nil {
				h = &health{o: o}
				targets[key] = h
			}
			h.ok = h.ok || o.TargetOK
			h.failed = h.failed || o.TargetFailed
		}
		if len(args) > 0 {
			if _, err := tx.ExecContext(ctx, s.rebind(ins.String()), args...); err != nil {
				return err
			}
		}
		// An agent reply's status follows its delivery.
		for st, ids := range replies {
			q := `UPDATE messages SET status = ? WHERE id IN (` + placeholders(len(ids)) + `)`
			if _, err := tx.ExecContext(ctx, s.rebind(q), append([]any{st}, ids...)...); err != nil {
				return fmt.Errorf("update reply status: %w", err)
			}
		}
		if len(finished) > 0 && s.dialect != "postgres" {
			// Let the next delivery of each finished conversation be
			// claimed; on PostgreSQL, after the commit (see releaseHeadsAfterCommit).
			if err := s.releaseHeadsOf(ctx, tx.ExecContext, finished); err != nil {
				return err
			}
		}
		for _, h := range targets {
			d := h.o.Delivery
			switch {
			case h.ok:
				if err := s.setTargetFailing(gtx, d, nil); err != nil {
					return err
				}
			case h.failed:
				since, err := s.markTargetFailing(gtx, d, t)
				if err != nil {
					return err
				}
				if disableAfter > 0 && !since.IsZero() && t.Sub(since) >= disableAfter {
					dt, err := s.disableTarget(gtx, d, since, t)
					if err != nil {
						return err
					}
					if dt != nil {
						disabled = append(disabled, *dt)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: record %d attempts: %w", len(outcomes), err)
	}
	s.releaseHeadsAfterCommit(ctx, finished)
	return held, disabled, nil
}

// finishClaims moves every delivery of a batch on with one statement, if
// its worker still holds it, and returns the ids it moved.
func (s *Store) finishClaims(ctx context.Context, tx *sql.Tx, outcomes []AttemptOutcome, t time.Time) (map[string]struct{}, error) {
	intCast, timeCast := "?", "?"
	if s.dialect == "postgres" {
		intCast, timeCast = "CAST(? AS INTEGER)", "CAST(? AS TIMESTAMPTZ)"
	}
	row := "(?,?,?," + intCast + ",?," + intCast + "," + timeCast + ")"
	var b strings.Builder
	b.WriteString(`UPDATE deliveries SET status = v.column3, attempt_count = v.column4, last_error = v.column5,
		next_attempt_at = CASE WHEN v.column6 = 1 THEN v.column7 ELSE deliveries.next_attempt_at END,
		claimed_until = NULL, claimed_by = '', updated_at = ?
		FROM (VALUES `)
	args := []any{t}
	for i := range outcomes {
		o := &outcomes[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
		hasNext, next := 0, t
		if !o.NextAttemptAt.IsZero() {
			hasNext, next = 1, o.NextAttemptAt
		}
		args = append(args, o.Delivery.ID, o.Delivery.ClaimedBy, o.Status, o.Attempt.N, o.Attempt.Error, hasNext, next)
	}
	b.WriteString(`) AS v WHERE deliveries.id = v.column1 AND deliveries.claimed_by = v.column2 AND deliveries.status = ?
		RETURNING deliveries.id`)
	args = append(args, domain.DeliveryPending)
	rows, err := tx.QueryContext(ctx, s.rebind(b.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("finish claims: %w", err)
	}
	defer rows.Close()
	moved := make(map[string]struct{}, len(outcomes))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		moved[id] = struct{}{}
	}
	return moved, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// ReleaseHeads clears the hold of every pending delivery that has no earlier
// pending one of its ordering key. Holds are released as deliveries finish;
// this sweep repairs the rare hold left by concurrent writers.
func (s *Store) ReleaseHeads(ctx context.Context) (int64, error) {
	unlock := s.lockWrites()
	defer unlock()
	res, err := s.sql.ExecContext(ctx, `UPDATE deliveries SET held = FALSE
		WHERE held = TRUE AND status = 'pending' AND NOT EXISTS (SELECT 1 FROM deliveries e
			WHERE e.ordering_key = deliveries.ordering_key AND e.status = 'pending' AND e.id < deliveries.id)`)
	if err != nil {
		return 0, fmt.Errorf("store: release delivery heads: %w", err)
	}
	return res.RowsAffected()
}

func targetID(d ClaimedDelivery) string {
	if d.TargetType == domain.TargetSubscription {
		return d.SubscriptionID
	}
	return d.IntegrationID
}

func (s *Store) setTargetFailing(tx *gorm.DB, d ClaimedDelivery, since *time.Time) error {
	if d.TargetType == domain.TargetSubscription {
		return tx.Model(&subscriptionRow{}).Where("id = ? AND failing_since IS NOT NULL", d.SubscriptionID).Update("failing_since", since).Error
	}
	return tx.Model(&integrationRow{}).Where("id = ? AND delivery_failing_since IS NOT NULL", d.IntegrationID).Update("delivery_failing_since", since).Error
}

// markTargetFailing starts a target's failure period if none is running and
// returns when it started.
func (s *Store) markTargetFailing(tx *gorm.DB, d ClaimedDelivery, t time.Time) (time.Time, error) {
	if d.TargetType == domain.TargetSubscription {
		if err := tx.Model(&subscriptionRow{}).Where("id = ? AND failing_since IS NULL", d.SubscriptionID).Update("failing_since", t).Error; err != nil {
			return time.Time{}, err
		}
		var row subscriptionRow
		if err := tx.Select("failing_since").Where("id = ?", d.SubscriptionID).Take(&row).Error; err != nil || row.FailingSince == nil {
			return time.Time{}, nil
		}
		return row.FailingSince.UTC(), nil
	}
	if err := tx.Model(&integrationRow{}).Where("id = ? AND delivery_failing_since IS NULL", d.IntegrationID).Update("delivery_failing_since", t).Error; err != nil {
		return time.Time{}, err
	}
	var row integrationRow
	if err := tx.Select("delivery_failing_since").Where("id = ?", d.IntegrationID).Take(&row).Error; err != nil || row.DeliveryFailingSince == nil {
		return time.Time{}, nil
	}
	return row.DeliveryFailingSince.UTC(), nil
}

// EventTargetDisabled is the event-log type written when a target is disabled.
const EventTargetDisabled = "delivery.target_disabled"

func (s *Store) disableTarget(tx *gorm.DB, d ClaimedDelivery, since, t time.Time) (*DisabledTarget, error) {
	reason := fmt.Sprintf("target disabled: every attempt failed since %s", since.Format(time.RFC3339))
	var res *gorm.DB
	if d.TargetType == domain.TargetSubscription {
		res = tx.Model(&subscriptionRow{}).Where("id = ? AND enabled = ?", d.SubscriptionID, true).
			Updates(map[string]any{"enabled": false, "disabled_reason": reason, "updated_at": t})
	} else {
		res = tx.Model(&integrationRow{}).Where("id = ? AND delivery_disabled_at IS NULL", d.IntegrationID).
			Updates(map[string]any{"delivery_disabled_at": t, "updated_at": t})
	}
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, nil // already disabled
	}
	if err := pendingOfTarget(tx, d).Updates(map[string]any{"status": domain.DeliveryFailed, "last_error": reason, "updated_at": t}).Error; err != nil {
		return nil, err
	}
	if d.TargetType == domain.TargetIntegration {
		if err := tx.Create(&eventRow{ID: NewID(), WorkspaceID: d.WorkspaceID, IntegrationID: d.IntegrationID,
			Status: domain.EventRoutingError, EventType: EventTargetDisabled, Error: reason, CreatedAt: t}).Error; err != nil {
			return nil, err
		}
	}
	return &DisabledTarget{TargetType: d.TargetType, ID: targetID(d), WorkspaceID: d.WorkspaceID, IntegrationID: d.IntegrationID, FailingSince: since}, nil
}

// pendingOfTarget selects the pending deliveries to d's target.
func pendingOfTarget(tx *gorm.DB, d ClaimedDelivery) *gorm.DB {
	q := tx.Model(&deliveryRow{}).Where("status = 'pending' AND target_type = ?", d.TargetType)
	if d.TargetType == domain.TargetSubscription {
		return q.Where("subscription_id = ?", d.SubscriptionID)
	}
	return q.Where("integration_id = ?", d.IntegrationID)
}

// EnableIntegrationDelivery clears an integration target's disabled and failure state.
func (s *Store) EnableIntegrationDelivery(ctx context.Context, workspaceID, id string) error {
	return s.updateIntegration(ctx, workspaceID, id, map[string]any{"delivery_disabled_at": nil, "delivery_failing_since": nil, "updated_at": now()})
}

// RetryFilter selects deliveries to retry in bulk.
type RetryFilter struct {
	IntegrationID string
	// Statuses defaults to dead and failed.
	Statuses []string
	Since    time.Time
	Until    time.Time
}

// RetryDeliveries schedules every matching dead or failed delivery for an
// attempt now and reports how many.
func (s *Store) RetryDeliveries(ctx context.Context, workspaceID string, f RetryFilter) (int64, error) {
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []string{domain.DeliveryDead, domain.DeliveryFailed}
	}
	t := now()
	q := s.db.WithContext(ctx).Model(&deliveryRow{}).Where("workspace_id = ? AND status IN ?", workspaceID, statuses)
	if len(f.Statuses) == 0 {
		q = q.Where("status IN ('failed', 'dead')") // idx_deliveries_unsent's predicate
	}
	if f.IntegrationID != "" {
		q = q.Where("integration_id = ?", f.IntegrationID)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until)
	}
	res := q.Updates(map[string]any{"status": domain.DeliveryPending, "next_attempt_at": t, "claimed_until": nil, "held": false, "updated_at": t})
	if res.Error != nil {
		return 0, fmt.Errorf("store: retry deliveries: %w", res.Error)
	}
	if res.RowsAffected > 0 {
		if err := s.requeueReplies(ctx, workspaceID); err != nil {
			return 0, err
		}
	}
	return res.RowsAffected, nil
}

// requeueReplies puts agent replies whose delivery is pending again (after
// a retry by hand) back to queued.
func (s *Store) requeueReplies(ctx context.Context, workspaceID string) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE messages SET status = ? WHERE workspace_id = ? AND status IN (?, ?) AND id IN
		(SELECT message_id FROM deliveries WHERE workspace_id = ? AND status = 'pending' AND (target_type = ? AND event_type = ? OR target_type = ?))`,
		domain.MessageQueued, workspaceID, domain.MessageFailed, domain.MessageSkipped,
		workspaceID, domain.TargetIntegration, domain.EventMessageSent, domain.TargetProvider).Error
	if err != nil {
		return fmt.Errorf("store: requeue replies: %w", err)
	}
	return nil
}
