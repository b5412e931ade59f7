package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

// EnsureWorkspace returns the workspace with this name, creating it if needed.
func (s *Store) EnsureWorkspace(ctx context.Context, name string) (domain.Workspace, error) {
	var row workspaceRow
	err := s.db.WithContext(ctx).Where("name = ?", name).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		row = workspaceRow{ID: NewID(), Name: name, CreatedAt: now()}
		err = s.db.WithContext(ctx).Create(&row).Error
		if isUniqueViolation(err) {
			err = s.db.WithContext(ctx).Where("name = ?", name).Take(&row).Error
		}
	}
	if err != nil {
		return domain.Workspace{}, fmt.Errorf("store: ensure workspace %q: %w", name, err)
	}
	return domain.Workspace{ID: row.ID, Name: row.Name, CreatedAt: row.CreatedAt.UTC()}, nil
}

// WorkspaceByName returns the workspace with this name.
func (s *Store) WorkspaceByName(ctx context.Context, name string) (domain.Workspace, error) {
	var row workspaceRow
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&row).Error; err != nil {
		return domain.Workspace{}, notFound(fmt.Sprintf("fetch workspace %q", name), err)
	}
	return domain.Workspace{ID: row.ID, Name: row.Name, CreatedAt: row.CreatedAt.UTC()}, nil
}
