package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

// IntegrationSecrets are set when an integration is created.
type IntegrationSecrets struct {
	APIKeyHash        string
	ResponseTokenHash string
	SigningSecret     string
}

// CreateIntegration stores a new integration.
func (s *Store) CreateIntegration(ctx context.Context, in domain.Integration, sec IntegrationSecrets) (domain.Integration, error) {
	t := now()
	row := integrationRow{
		ID:                NewID(),
		WorkspaceID:       in.WorkspaceID,
		Name:              in.Name,
		Kind:              in.Kind,
		Status:            in.Status,
		OutboundURL:       in.OutboundURL,
		Delivery:          string(in.Delivery),
		Config:            configText(in.Config),
		APIKeyHash:        sec.APIKeyHash,
		ResponseTokenHash: sec.ResponseTokenHash,
		SigningSecret:     sec.SigningSecret,
		CreatedAt:         t,
		UpdatedAt:         t,
	}
	err := s.planningTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return setIntegrationConnections(tx, row.WorkspaceID, row.ID, in.Connections)
	})
	if err != nil {
		return domain.Integration{}, fmt.Errorf("store: create integration: %w", err)
	}
	out := row.domain()
	out.Connections = in.Connections
	return out, nil
}

// configText is a kind's config as stored: an empty object when unset.
func configText(cfg []byte) string {
	if len(cfg) == 0 {
		return "{}"
	}
	return string(cfg)
}

func (s *Store) integrations(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Model(&integrationRow{}).Where("deleted_at IS NULL")
}

// Integration returns one integration of a workspace.
func (s *Store) Integration(ctx context.Context, workspaceID, id string) (domain.Integration, error) {
	var row integrationRow
	if err := s.integrations(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
		return domain.Integration{}, notFound("fetch integration "+id, err)
	}
	in := row.domain()
	var codes []string
	err := s.db.WithContext(ctx).Model(&integrationConnectionRow{}).Where("integration_id = ?", id).
		Order("position").Pluck("connection_code", &codes).Error
	if err != nil {
		return domain.Integration{}, fmt.Errorf("store: fetch integration %s connections: %w", id, err)
	}
	in.Connections = codes
	return in, nil
}

// IntegrationAuth returns an integration with its key hashes, whatever its
// workspace: inbound traffic names the integration alone.
func (s *Store) IntegrationAuth(ctx context.Context, id string) (domain.IntegrationAuth, error) {
	var row integrationRow
	if err := s.integrations(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return domain.IntegrationAuth{}, notFound("fetch integration "+id, err)
	}
	return domain.IntegrationAuth{
		Integration:       row.domain(),
		APIKeyHash:        []byte(row.APIKeyHash),
		ResponseTokenHash: []byte(row.ResponseTokenHash),
	}, nil
}

// Integrations lists a workspace's integrations, newest first.
func (s *Store) Integrations(ctx context.Context, workspaceID string, page domain.Page) ([]domain.Integration, string, error) {
	q := s.integrations(ctx).Where("workspace_id = ?", workspaceID)
	rows, next, err := paginate(q, page, func(r *integrationRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list integrations: %w", err)
	}
	out := make([]domain.Integration, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// IntegrationUpdate holds the fields a PATCH may change; nil leaves one alone.
type IntegrationUpdate struct {
	Name        *string
	OutboundURL *string
	Delivery    *[]byte
	Status      *string
	Config      *[]byte
	// Connections replaces the list of connection codes.
	Connections *[]string
}

// UpdateIntegration changes an integration's settings.
func (s *Store) UpdateIntegration(ctx context.Context, workspaceID, id string, u IntegrationUpdate) (domain.Integration, error) {
	set := map[string]any{"updated_at": now()}
	if u.Name != nil {
		set["name"] = *u.Name
	}
	if u.OutboundURL != nil {
		set["outbound_url"] = *u.OutboundURL
	}
	if u.Delivery != nil {
		set["delivery"] = string(*u.Delivery)
	}
	if u.Status != nil {
		set["status"] = *u.Status
	}
	if u.Config != nil {
		set["config"] = configText(*u.Config)
	}
	err := s.planningTx(ctx, func(tx *gorm.DB) error {
		if u.Connections != nil {
			if err := lockWorkspace(tx, s.dialect, workspaceID); err != nil {
				return err
			}
			// A chatbot campaign's integration has no connections.
			if len(*u.Connections) > 0 {
				if err := refuseLiveCampaigns(tx, workspaceID, id); err != nil {
					return err
				}
			}
		}
		res := tx.Model(&integrationRow{}).Where("deleted_at IS NULL AND workspace_id = ? AND id = ?", workspaceID, id).Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if u.Connections != nil {
			return setIntegrationConnections(tx, workspaceID, id, *u.Connections)
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return domain.Integration{}, ErrNotFound
	}
	var live *ErrLiveCampaigns
	if errors.As(err, &live) {
		return domain.Integration{}, live
	}
	if err != nil {
		return domain.Integration{}, fmt.Errorf("store: update integration %s: %w", id, err)
	}
	return s.Integration(ctx, workspaceID, id)
}

func (s *Store) updateIntegration(ctx context.Context, workspaceID, id string, set map[string]any) error {
	res := s.integrations(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Updates(set)
	if res.Error != nil {
		return fmt.Errorf("store: update integration %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteIntegration hides an integration and releases its senders; its
// conversations stay readable.
func (s *Store) DeleteIntegration(ctx context.Context, workspaceID, id string) error {
	t := now()
	return s.planningTx(ctx, func(tx *gorm.DB) error {
		if err := lockWorkspace(tx, s.dialect, workspaceID); err != nil {
			return err
		}
		if err := refuseLiveCampaigns(tx, workspaceID, id); err != nil {
			return err
		}
		res := tx.Model(&integrationRow{}).Where("deleted_at IS NULL AND workspace_id = ? AND id = ?", workspaceID, id).
			Updates(map[string]any{"deleted_at": t, "updated_at": t})
		if res.Error != nil {
			return fmt.Errorf("store: delete integration %s: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return releaseIntegration(tx, id)
	})
}

// SetIntegrationAPIKeyHash replaces the inbound key's hash.
func (s *Store) SetIntegrationAPIKeyHash(ctx context.Context, workspaceID, id, hash string) error {
	return s.updateIntegration(ctx, workspaceID, id, map[string]any{"api_key_hash": hash, "updated_at": now()})
}

// SetIntegrationResponseTokenHash replaces the response-API token's hash.
func (s *Store) SetIntegrationResponseTokenHash(ctx context.Context, workspaceID, id, hash string) error {
	return s.updateIntegration(ctx, workspaceID, id, map[string]any{"response_token_hash": hash, "updated_at": now()})
}

// SigningSecrets are an integration's current signing secret and, during a
// rotation's overlap, the previous one.
type SigningSecrets struct {
	Current  string
	Previous string
	// PreviousUntil is when the previous secret stops being used.
	PreviousUntil time.Time
}

// IntegrationSigningSecrets returns the secrets deliveries are signed with.
func (s *Store) IntegrationSigningSecrets(ctx context.Context, workspaceID, id string) (SigningSecrets, error) {
	var row integrationRow
	err := s.integrations(ctx).Select("signing_secret", "prev_signing_secret", "prev_signing_secret_until").
		Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error
	if err != nil {
		return SigningSecrets{}, notFound("fetch signing secret", err)
	}
	out := SigningSecrets{Current: row.SigningSecret}
	if row.PrevSigningSecretUntil != nil && row.PrevSigningSecretUntil.After(now()) {
		out.Previous = row.PrevSigningSecret
		out.PreviousUntil = row.PrevSigningSecretUntil.UTC()
	}
	return out, nil
}

// RotateSigningSecret makes secret the current one and keeps the old one
// in use until overlap has passed.
func (s *Store) RotateSigningSecret(ctx context.Context, workspaceID, id, secret string, overlap time.Duration) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row integrationRow
		err := tx.Model(&integrationRow{}).Where("deleted_at IS NULL AND workspace_id = ? AND id = ?", workspaceID, id).
			Select("signing_secret").Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: rotate signing secret: %w", err)
		}
		t := now()
		until := t.Add(overlap)
		return tx.Model(&integrationRow{}).Where("id = ?", id).Updates(map[string]any{
			"signing_secret":            secret,
			"prev_signing_secret":       row.SigningSecret,
			"prev_signing_secret_until": until,
			"updated_at":                t,
		}).Error
	})
}

// paginate runs a newest-first page query. ids are time-ordered, so
// "before the cursor" is "id < cursor". It returns the next cursor, if any.
func paginate[T any](q *gorm.DB, page domain.Page, id func(*T) string) ([]T, string, error) {
	limit := clampLimit(page.Limit)
	if page.Cursor != "" {
		q = q.Where("id < ?", page.Cursor)
	}
	var rows []T
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	if len(rows) > limit {
		return rows[:limit], id(&rows[limit-1]), nil
	}
	return rows, "", nil
}
