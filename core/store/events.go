package store

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/core/domain"
)

// EventFilter narrows an event-log listing.
type EventFilter struct {
	Status string
}

// Events lists an integration's event log, newest first. The integration
// must belong to the workspace.
func (s *Store) Events(ctx context.Context, workspaceID, integrationID string, f EventFilter, page domain.Page) ([]domain.Event, string, error) {
	q := s.db.WithContext(ctx).Model(&eventRow{}).Where("workspace_id = ? AND integration_id = ?", workspaceID, integrationID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	rows, next, err := paginate(q, page, func(r *eventRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list events: %w", err)
	}
	out := make([]domain.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}
