package store

import (
	"context"
	"encoding/json"
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

// CreateOutboundMessage stores an agent's reply, its event-log entry and the
// deliveries it causes, all in one transaction. It reports how many
// deliveries were queued.
func (s *Store) CreateOutboundMessage(ctx context.Context, conv domain.Conversation, route domain.Route, content string) (domain.Message, int, error) {
	t := now()
	row := messageRow{
		ID:             NewID(),
		WorkspaceID:    conv.WorkspaceID,
		IntegrationID:  conv.IntegrationID,
		ConversationID: conv.ID,
		Direction:      domain.Outbound,
		Content:        content,
		ContentType:    "text",
		SentAt:         t,
		Status:         domain.MessageStored,
		CreatedAt:      t,
	}
	queued := 0
	var heldKeys []string
	err := s.planningTx(ctx, func(tx *gorm.DB) error {
		m := row.domain()
		ev := &domain.OutboundEvent{Kind: domain.OutboundMessage, WorkspaceID: conv.WorkspaceID, IntegrationID: conv.IntegrationID,
			Channel: route.Channel, Chat: route.Chat, Conversation: conv, Message: &m, At: t}
		ds, err := s.plan(ctx, ev)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.TargetType == domain.TargetIntegration || d.TargetType == domain.TargetProvider {
				row.Status = domain.MessageQueued
			}
			if d.TargetType == domain.TargetProvider {
				row.ConnectionID = conv.ConnectionID
			}
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		err = tx.Model(&conversationRow{}).Where("id = ?", conv.ID).Update("last_message_at", activityTime(t)).Error
		if err != nil {
			return err
		}
		evRow := eventRow{ID: NewID(), WorkspaceID: conv.WorkspaceID, IntegrationID: conv.IntegrationID,
			Status: domain.EventOK, EventType: domain.EventMessageSent, CreatedAt: t}
		if err := tx.Create(&evRow).Error; err != nil {
			return err
		}
		queued = len(ds)
		heldKeys, err = insertDeliveries(ctx, gormExec(tx), s.gormQueryRow(tx), ev, ds, t)
		return err
	})
	if err != nil {
		return domain.Message{}, 0, fmt.Errorf("store: create outbound message: %w", err)
	}
	s.releaseHeadsAfterCommit(ctx, heldKeys)
	return row.domain(), queued, nil
}

// QueueProviderSend queues a message to a contact through a connection that
// belongs to no conversation (an auto-reply): a provider delivery like a
// chat's reply, durable and retried.
func (s *Store) QueueProviderSend(ctx context.Context, conn domain.Connection, to, content string) error {
	payload, err := json.Marshal(map[string]string{"connectionId": conn.ID, "to": to, "content": content, "contentType": "text"})
	if err != nil {
		return fmt.Errorf("store: queue provider send: %w", err)
	}
	t := now()
	ev := &domain.OutboundEvent{WorkspaceID: conn.WorkspaceID, At: t}
	ds := []NewDelivery{{TargetType: domain.TargetProvider, EventType: EventAutoReply, Payload: payload}}
	err = s.planningTx(ctx, func(tx *gorm.DB) error {
		_, err := insertDeliveries(ctx, gormExec(tx), s.gormQueryRow(tx), ev, ds, t)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: queue provider send: %w", err)
	}
	return nil
}

// EventAutoReply is the event type of an auto-reply's delivery.
const EventAutoReply = "auto_reply"
