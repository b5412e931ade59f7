package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboardhq/switchboard/core/domain"
)

// CreateTeam stores a team.
func (s *Store) CreateTeam(ctx context.Context, workspaceID, name string) (domain.Team, error) {
	row := teamRow{ID: NewID(), WorkspaceID: workspaceID, Name: name, CreatedAt: now()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return domain.Team{}, fmt.Errorf("store: create team: %w", err)
	}
	return domain.Team{ID: row.ID, WorkspaceID: row.WorkspaceID, Name: row.Name, CreatedAt: row.CreatedAt}, nil
}

// Team returns one team of a workspace.
func (s *Store) Team(ctx context.Context, workspaceID, id string) (domain.Team, error) {
	var row teamRow
	if err := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
		return domain.Team{}, notFound("fetch team "+id, err)
	}
	return domain.Team{ID: row.ID, WorkspaceID: row.WorkspaceID, Name: row.Name, CreatedAt: row.CreatedAt.UTC()}, nil
}

// ErrTeamNotFound is returned for a transfer to an unknown team.
var ErrTeamNotFound = errors.New("team not found")

// Teams lists a workspace's teams, newest first.
func (s *Store) Teams(ctx context.Context, workspaceID string, page domain.Page) ([]domain.Team, string, error) {
	q := s.db.WithContext(ctx).Model(&teamRow{}).Where("workspace_id = ?", workspaceID)
	rows, next, err := paginate(q, page, func(r *teamRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list teams: %w", err)
	}
	out := make([]domain.Team, len(rows))
	for i, r := range rows {
		out[i] = domain.Team{ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, next, nil
}
