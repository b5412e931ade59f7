package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboardhq/switchboard/core/domain"
)

func (r *subscriptionRow) domain() domain.Subscription {
	var headers []domain.Header
	var wire []struct{ Name, Value string }
	if json.Unmarshal([]byte(r.ExtraHeaders), &wire) == nil {
		for _, h := range wire {
			headers = append(headers, domain.Header{Name: h.Name, Value: h.Value})
		}
	}
	var events []string
	if r.SubscribedEvents != "" {
		events = strings.Split(r.SubscribedEvents, ",")
	}
	return domain.Subscription{
		ID: r.ID, WorkspaceID: r.WorkspaceID, URL: r.URL, Enabled: r.Enabled, SubscribedEvents: events,
		ExtraHeaders: headers, Format: r.Format, DisabledReason: r.DisabledReason,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func headersJSON(hs []domain.Header) string {
	wire := make([]struct{ Name, Value string }, len(hs))
	for i, h := range hs {
		wire[i].Name, wire[i].Value = h.Name, h.Value
	}
	b, _ := json.Marshal(wire)
	return string(b)
}

// CreateSubscription stores a webhook subscription with its signing secret.
func (s *Store) CreateSubscription(ctx context.Context, sub domain.Subscription, signingSecret string) (domain.Subscription, error) {
	t := now()
	row := subscriptionRow{
		ID: NewID(), WorkspaceID: sub.WorkspaceID, URL: sub.URL, Enabled: sub.Enabled,
		SubscribedEvents: strings.Join(sub.SubscribedEvents, ","), ExtraHeaders: headersJSON(sub.ExtraHeaders),
		Format: sub.Format, SigningSecret: signingSecret, CreatedAt: t, UpdatedAt: t,
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return domain.Subscription{}, fmt.Errorf("store: create subscription: %w", err)
	}
	return row.domain(), nil
}

// Subscription returns one subscription of a workspace.
func (s *Store) Subscription(ctx context.Context, workspaceID, id string) (domain.Subscription, error) {
	var row subscriptionRow
	if err := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
		return domain.Subscription{}, notFound("fetch subscription "+id, err)
	}
	return row.domain(), nil
}

// SubscriptionSecret returns the secret a subscription's deliveries are signed with.
func (s *Store) SubscriptionSecret(ctx context.Context, id string) (string, error) {
	var row subscriptionRow
	if err := s.db.WithContext(ctx).Select("signing_secret").Where("id = ?", id).Take(&row).Error; err != nil {
		return "", notFound("fetch subscription secret", err)
	}
	return row.SigningSecret, nil
}

// Subscriptions lists a workspace's subscriptions, newest first.
func (s *Store) Subscriptions(ctx context.Context, workspaceID string, page domain.Page) ([]domain.Subscription, string, error) {
	q := s.db.WithContext(ctx).Model(&subscriptionRow{}).Where("workspace_id = ?", workspaceID)
	rows, next, err := paginate(q, page, func(r *subscriptionRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list subscriptions: %w", err)
	}
	out := make([]domain.Subscription, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// EnabledSubscriptions returns every enabled subscription of a workspace.
func (s *Store) EnabledSubscriptions(ctx context.Context, workspaceID string) ([]domain.Subscription, error) {
	var rows []subscriptionRow
	if err := s.db.WithContext(ctx).Where("workspace_id = ? AND enabled = ?", workspaceID, true).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: enabled subscriptions: %w", err)
	}
	out := make([]domain.Subscription, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// SubscriptionUpdate holds the fields a partial update may change.
type SubscriptionUpdate struct {
	URL              *string
	Enabled          *bool
	SubscribedEvents *[]string
	ExtraHeaders     *[]domain.Header
	Format           *string
}

// UpdateSubscription changes a subscription. Enabling it clears its failure state.
func (s *Store) UpdateSubscription(ctx context.Context, workspaceID, id string, u SubscriptionUpdate) (domain.Subscription, error) {
	set := map[string]any{"updated_at": now()}
	if u.URL != nil {
		set["url"] = *u.URL
	}
	if u.Enabled != nil {
		set["enabled"] = *u.Enabled
		if *u.Enabled {
			set["failing_since"] = nil
			set["disabled_reason"] = ""
		}
	}
	if u.SubscribedEvents != nil {
		set["subscribed_events"] = strings.Join(*u.SubscribedEvents, ",")
	}
	if u.ExtraHeaders != nil {
		set["extra_headers"] = headersJSON(*u.ExtraHeaders)
	}
	if u.Format != nil {
		set["format"] = *u.Format
	}
	res := s.db.WithContext(ctx).Model(&subscriptionRow{}).Where("workspace_id = ? AND id = ?", workspaceID, id).Updates(set)
	if res.Error != nil {
		return domain.Subscription{}, fmt.Errorf("store: update subscription %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Subscription{}, ErrNotFound
	}
	return s.Subscription(ctx, workspaceID, id)
}

// DeleteSubscription removes a subscription; its pending deliveries fail.
func (s *Store) DeleteSubscription(ctx context.Context, workspaceID, id string) error {
	res := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Delete(&subscriptionRow{})
	if res.Error != nil {
		return fmt.Errorf("store: delete subscription %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	err := s.db.WithContext(ctx).Model(&deliveryRow{}).
		Where("subscription_id = ? AND status = 'pending'", id).
		Updates(map[string]any{"status": domain.DeliveryFailed, "last_error": "subscription deleted", "updated_at": now()}).Error
	if err != nil {
		return fmt.Errorf("store: fail deliveries of deleted subscription %s: %w", id, err)
	}
	return nil
}

// ConversationTeam returns a conversation's team id ("" when none).
func (s *Store) ConversationTeam(ctx context.Context, conversationID string) (string, error) {
	var team string
	err := s.sql.QueryRowContext(ctx, s.rebind(`SELECT team_id FROM conversations WHERE id = ?`), conversationID).Scan(&team)
	if err != nil {
		return "", notFound("fetch conversation team", err)
	}
	return team, nil
}
