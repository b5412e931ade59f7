package store

import (
	"context"
	"fmt"
	"time"

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
	last, err := s.lastMessageTimes(ctx, rows)
	if err != nil {
		return nil, err
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
			TeamID:        r.TeamID,
			LastMessageAt: last[r.ID],
			CreatedAt:     r.CreatedAt.UTC(),
		}
	}
	return out, nil
}

// lastMessageTimes returns when each conversation's newest message was sent.
// It is read from the messages index rather than kept on the conversation
// row, so the ingest path never rewrites conversation rows.
func (s *Store) lastMessageTimes(ctx context.Context, rows []conversationRow) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
		out[rows[i].ID] = rows[i].LastMessageAt.UTC()
	}
	type last struct {
		ID     string
		SentAt *time.Time
	}
	var lasts []last
	err := s.db.WithContext(ctx).Raw(`SELECT c.id AS id,
		(SELECT m.sent_at FROM messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) AS sent_at
		FROM conversations c WHERE c.id IN ?`, ids).Scan(&lasts).Error
	if err != nil {
		return nil, fmt.Errorf("store: last message times: %w", err)
	}
	for _, l := range lasts {
		if l.SentAt != nil {
			out[l.ID] = l.SentAt.UTC()
		}
	}
	return out, nil
}
