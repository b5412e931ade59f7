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
		_, err := insertDeliveries(ctx, gormExec(tx), gormQuery(tx), queued(ev, ds), t)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: queue provider send: %w", err)
	}
	return nil
}

// EventAutoReply is the event type of an auto-reply's delivery.
const EventAutoReply = "auto_reply"
