package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/switchboardhq/switchboard/core/domain"
)

func (r *adminTokenRow) domain() domain.AdminToken {
	return domain.AdminToken{ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, CreatedAt: r.CreatedAt.UTC(), LastUsedAt: utcPtr(r.LastUsedAt)}
}

// CreateAdminToken stores the hash of a new admin token.
func (s *Store) CreateAdminToken(ctx context.Context, workspaceID, name, tokenHash string) error {
	row := adminTokenRow{ID: NewID(), WorkspaceID: workspaceID, Name: name, TokenHash: tokenHash, CreatedAt: now()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: create admin token: %w", err)
	}
	return nil
}

// AdminTokenWorkspace returns the workspace of the admin token with this hash.
func (s *Store) AdminTokenWorkspace(ctx context.Context, tokenHash string) (string, error) {
	var workspaceID string
	err := s.sql.QueryRowContext(ctx, s.rebind(`SELECT workspace_id FROM admin_tokens WHERE token_hash = ?`), tokenHash).Scan(&workspaceID)
	if err != nil {
		return "", notFound("fetch admin token", err)
	}
	return workspaceID, nil
}

// AdminTokenByHash returns the admin token with this hash.
func (s *Store) AdminTokenByHash(ctx context.Context, tokenHash string) (domain.AdminToken, error) {
	var row adminTokenRow
	if err := s.db.WithContext(ctx).Where("token_hash = ?", tokenHash).Take(&row).Error; err != nil {
		return domain.AdminToken{}, notFound("fetch admin token", err)
	}
	return row.domain(), nil
}

// AdminToken returns an admin token by id, whatever its workspace: for the
// command line, which acts on the whole database.
func (s *Store) AdminToken(ctx context.Context, id string) (domain.AdminToken, error) {
	if uuid.Validate(id) != nil {
		return domain.AdminToken{}, ErrNotFound
	}
	var row adminTokenRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return domain.AdminToken{}, notFound("fetch admin token "+id, err)
	}
	return row.domain(), nil
}

// AdminTokens lists a workspace's admin tokens, newest first.
func (s *Store) AdminTokens(ctx context.Context, workspaceID string, page domain.Page) ([]domain.AdminToken, string, error) {
	q := s.db.WithContext(ctx).Model(&adminTokenRow{}).Where("workspace_id = ?", workspaceID)
	rows, next, err := paginate(q, page, func(r *adminTokenRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list admin tokens: %w", err)
	}
	out := make([]domain.AdminToken, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// RevokeAdminToken deletes one of a workspace's admin tokens. An id that is
// not one of the workspace's tokens, or not an id at all, is ErrNotFound.
func (s *Store) RevokeAdminToken(ctx context.Context, workspaceID, id string) error {
	if uuid.Validate(id) != nil {
		return ErrNotFound
	}
	res := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Delete(&adminTokenRow{})
	if res.Error != nil {
		return fmt.Errorf("store: revoke admin token %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchAdminToken records that an admin token was used at t.
func (s *Store) TouchAdminToken(ctx context.Context, id string, t time.Time) error {
	err := s.db.WithContext(ctx).Model(&adminTokenRow{}).Where("id = ?", id).Update("last_used_at", t.UTC()).Error
	if err != nil {
		return fmt.Errorf("store: touch admin token %s: %w", id, err)
	}
	return nil
}
