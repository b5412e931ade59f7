package store

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/core/domain"
)

// ConversationFilter narrows a conversation listing.
type ConversationFilter struct {
	IntegrationID string
}

// Conversations lists a workspace's conversations with their contacts, newest first.
func (s *Store) Conversations(ctx context.Context, workspaceID string, f ConversationFilter, page domain.Page) ([]domain.Conversation, string, error) {
	q := s.db.WithContext(ctx).Model(&conversationRow{}).Where("workspace_id = ?", workspaceID)
	if f.IntegrationID != "" {
		q = q.Where("integration_id = ?", f.IntegrationID)
	}
	rows, next, err := paginate(q, page, func(r *conversationRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list conversations: %w", err)
	}
	out, err := s.withContacts(ctx, rows)
	return out, next, err
}

// Conversation returns one conversation of a workspace.
func (s *Store) Conversation(ctx context.Context, workspaceID, id string) (domain.Conversation, error) {
	var row conversationRow
	if err := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
		return domain.Conversation{}, notFound("fetch conversation "+id, err)
	}
	out, err := s.withContacts(ctx, []conversationRow{row})
	if err != nil {
		return domain.Conversation{}, err
	}
	return out[0], nil
}

func (s *Store) withContacts(ctx context.Context, rows []conversationRow) ([]domain.Conversation, error) {
	ids := make([]string, 0, len(rows))
	for i := range rows {
		ids = append(ids, rows[i].ContactID)
	}
	contacts := map[string]domain.Contact{}
	if len(ids) > 0 {
		var crows []contactRow
		if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&crows).Error; err != nil {
			return nil, fmt.Errorf("store: fetch contacts: %w", err)
		}
		for i := range crows {
			contacts[crows[i].ID] = crows[i].domain()
		}
	}
	out := make([]domain.Conversation, len(rows))
	for i, r := range rows {
		out[i] = domain.Conversation{
			ID:            r.ID,
			WorkspaceID:   r.WorkspaceID,
			IntegrationID: r.IntegrationID,
			ExternalID:    r.ExternalID,
			Subject:       r.Subject,
			Status:        r.Status,
			Contact:       contacts[r.ContactID],
			LastMessageAt: r.LastMessageAt.UTC(),
			CreatedAt:     r.CreatedAt.UTC(),
		}
	}
	return out, nil
}
