package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

// Messages lists a conversation's messages, newest first.
func (s *Store) Messages(ctx context.Context, workspaceID, conversationID string, page domain.Page) ([]domain.Message, string, error) {
	q := s.db.WithContext(ctx).Model(&messageRow{}).Where("workspace_id = ? AND conversation_id = ?", workspaceID, conversationID)
	rows, next, err := paginate(q, page, func(r *messageRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list messages: %w", err)
	}
	out := make([]domain.Message, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// NewDelivery is a delivery to enqueue with the event that causes it.
type NewDelivery struct {
	EventType string
	Payload   []byte
}

// CreateOutboundMessage stores an agent's reply, its event-log entry and,
// when given, its delivery, all in one transaction.
func (s *Store) CreateOutboundMessage(ctx context.Context, conv domain.Conversation, content string, d *NewDelivery) (domain.Message, error) {
	t := now()
	status := domain.MessageStored
	if d != nil {
		status = domain.MessageQueued
	}
	row := messageRow{
		ID:             NewID(),
		WorkspaceID:    conv.WorkspaceID,
		IntegrationID:  conv.IntegrationID,
		ConversationID: conv.ID,
		Direction:      domain.Outbound,
		Content:        content,
		ContentType:    "text",
		SentAt:         t,
		Status:         status,
		CreatedAt:      t,
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		ev := eventRow{ID: NewID(), WorkspaceID: conv.WorkspaceID, IntegrationID: conv.IntegrationID,
			Status: domain.EventOK, EventType: domain.EventMessageSent, CreatedAt: t}
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		if d == nil {
			return nil
		}
		return tx.Create(&deliveryRow{
			ID:             NewID(),
			WorkspaceID:    conv.WorkspaceID,
			IntegrationID:  conv.IntegrationID,
			ConversationID: conv.ID,
			MessageID:      row.ID,
			EventType:      d.EventType,
			Payload:        string(d.Payload),
			Status:         domain.DeliveryPending,
			NextAttemptAt:  t,
			CreatedAt:      t,
			UpdatedAt:      t,
		}).Error
	})
	if err != nil {
		return domain.Message{}, fmt.Errorf("store: create outbound message: %w", err)
	}
	return row.domain(), nil
}
