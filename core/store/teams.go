package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

// Event types of conversation changes.
const (
	EventConversationTransferred = "conversation.transferred"
	EventConversationEnded       = "conversation.ended"
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

// ErrTeamNotFound is returned by TransferConversation for an unknown team.
var ErrTeamNotFound = errors.New("team not found")

// TransferConversation moves a conversation to a team and queues the
// transfer's deliveries in the same transaction.
func (s *Store) TransferConversation(ctx context.Context, workspaceID, conversationID, teamID string, route domain.Route) (domain.Conversation, int, error) {
	team, err := s.Team(ctx, workspaceID, teamID)
	if errors.Is(err, ErrNotFound) {
		return domain.Conversation{}, 0, ErrTeamNotFound
	}
	if err != nil {
		return domain.Conversation{}, 0, err
	}
	conv, err := s.Conversation(ctx, workspaceID, conversationID)
	if err != nil {
		return domain.Conversation{}, 0, err
	}
	queued := 0
	t := now()
	var heldKeys []string
	err = s.planningTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&conversationRow{}).Where("id = ?", conv.ID).Update("team_id", team.ID).Error; err != nil {
			return err
		}
		if err := tx.Create(&eventRow{ID: NewID(), WorkspaceID: workspaceID, IntegrationID: conv.IntegrationID,
			Status: domain.EventOK, EventType: EventConversationTransferred, CreatedAt: t}).Error; err != nil {
			return err
		}
		previous := conv.TeamID
		conv.TeamID = team.ID
		ev := &domain.OutboundEvent{Kind: domain.OutboundTransfer, WorkspaceID: workspaceID, IntegrationID: conv.IntegrationID,
			Channel: route.Channel, Chat: route.Chat, Conversation: conv, PreviousTeamID: previous, Team: &team, At: t}
		ds, err := s.plan(ctx, ev)
		if err != nil {
			return err
		}
		queued = len(ds)
		heldKeys, err = insertDeliveries(ctx, gormExec(tx), s.gormQueryRow(tx), ev, ds, t)
		return err
	})
	if err != nil {
		return domain.Conversation{}, 0, fmt.Errorf("store: transfer conversation %s: %w", conversationID, err)
	}
	s.releaseHeadsAfterCommit(ctx, heldKeys)
	return conv, queued, nil
}

// EndConversation ends a conversation and queues the end's deliveries in the
// same transaction. Ending an ended conversation is a conflict. A chat's
// thread key is released, so the contact's next message opens a new chat;
// an app's thread keeps it.
func (s *Store) EndConversation(ctx context.Context, workspaceID, conversationID string, route domain.Route) (domain.Conversation, int, error) {
	conv, err := s.Conversation(ctx, workspaceID, conversationID)
	if err != nil {
		return domain.Conversation{}, 0, err
	}
	if conv.Status == domain.ConversationEnded {
		return conv, 0, ErrConflict
	}
	queued := 0
	t := now()
	var heldKeys []string
	err = s.planningTx(ctx, func(tx *gorm.DB) error {
		set := map[string]any{"status": domain.ConversationEnded, "ended_at": t}
		if route.Chat {
			set["thread_key"] = nil
		}
		res := tx.Model(&conversationRow{}).Where("id = ? AND status = ?", conv.ID, domain.ConversationOpen).Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrConflict
		}
		if err := tx.Create(&eventRow{ID: NewID(), WorkspaceID: workspaceID, IntegrationID: conv.IntegrationID,
			Status: domain.EventOK, EventType: EventConversationEnded, CreatedAt: t}).Error; err != nil {
			return err
		}
		conv.Status = domain.ConversationEnded
		conv.EndedAt = &t
		ev := &domain.OutboundEvent{Kind: domain.OutboundChatEnd, WorkspaceID: workspaceID, IntegrationID: conv.IntegrationID,
			Channel: route.Channel, Chat: route.Chat, Conversation: conv, At: t}
		ds, err := s.plan(ctx, ev)
		if err != nil {
			return err
		}
		queued = len(ds)
		heldKeys, err = insertDeliveries(ctx, gormExec(tx), s.gormQueryRow(tx), ev, ds, t)
		return err
	})
	if errors.Is(err, ErrConflict) {
		return conv, 0, ErrConflict
	}
	if err != nil {
		return domain.Conversation{}, 0, fmt.Errorf("store: end conversation %s: %w", conversationID, err)
	}
	s.releaseHeadsAfterCommit(ctx, heldKeys)
	return conv, queued, nil
}
