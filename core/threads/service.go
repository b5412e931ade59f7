package threads

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Kinds is what threading needs to know of the installed plugins.
type Kinds interface {
	Info(kind string) (sdk.Info, bool)
	ByChannel(channel string) (sdk.Info, bool)
}

// Planner decides which deliveries an outbound event causes.
type Planner interface {
	Plan(ctx context.Context, ev *domain.OutboundEvent) ([]store.NewDelivery, error)
}

// Service is the one home of the threading rules: which contact a message
// comes from, which conversation it belongs to (and whether a chat that
// ended opens anew), which messages repeat, what a thread's subject is,
// when a chat's reply window is open, and which deliveries each change
// causes. It decides; the store answers its queries and writes what it
// decided, in one transaction per change. No kind is named here: what a
// kind does comes from what its plugin declared.
type Service struct {
	store   *store.Store
	kinds   Kinds
	planner Planner
	live    *live.Hub
}

// NewService returns the threading service. A nil planner plans nothing.
func NewService(st *store.Store, kinds Kinds, planner Planner) *Service {
	return &Service{store: st, kinds: kinds, planner: planner}
}

// Publish has the service tell h of every change it commits (a reply, an
// end, a transfer), once committed.
func (s *Service) Publish(h *live.Hub) { s.live = h }

// Route is how a conversation's events travel. A conversation that came in
// through a connection is a chat on the connection's channel; otherwise it
// is a chat when its integration's kind is one (see ChatKind), and an
// app's thread when replies go to the integration's target.
func (s *Service) Route(in domain.Integration, conv domain.Conversation) domain.Route {
	if conv.ConnectionID != "" {
		return domain.Route{Channel: conv.Channel, Chat: true}
	}
	info, ok := s.kinds.Info(in.Kind)
	return domain.Route{Channel: in.Kind, Chat: ok && ChatKind(info)}
}

// ChatKind reports whether an integration kind's conversations are chats:
// its plugin sends the replies itself, or its senders are the public (a
// website's visitors), whom the hub answers live. In a chat the contact's
// messages and the chat's end go to the integration's target, and agent
// replies go to the contact, not to the target.
func ChatKind(info sdk.Info) bool {
	return info.Sends || info.AuthMode() == sdk.AuthPublic
}

// ReplyWindow returns how long after a contact's last message a channel
// accepts a free-form reply; 0 means always.
func (s *Service) ReplyWindow(channel string) time.Duration {
	info, ok := s.kinds.ByChannel(channel)
	if !ok {
		return 0
	}
	return info.ReplyWindow
}

// WindowOpen reports whether a reply on channel may go out in the chat at
// now: always on a channel without a window, else only within the window
// after the contact's last message.
func (s *Service) WindowOpen(channel string, conv domain.Conversation, now time.Time) bool {
	w := s.ReplyWindow(channel)
	if w <= 0 {
		return true
	}
	return conv.LastInboundAt != nil && now.Sub(*conv.LastInboundAt) < w
}

func (s *Service) plan(ctx context.Context, ev *domain.OutboundEvent) ([]store.NewDelivery, error) {
	if s.planner == nil {
		return nil, nil
	}
	ds, err := s.planner.Plan(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("threads: plan deliveries: %w", err)
	}
	return ds, nil
}

// queue plans the deliveries an event causes and writes them in u.
func (s *Service) queue(ctx context.Context, u *store.Unit, ev *domain.OutboundEvent) (int, error) {
	ds, err := s.plan(ctx, ev)
	if err != nil {
		return 0, err
	}
	return len(ds), u.InsertDeliveries(ev, ds)
}

// Reply stores an outbound message in a conversation, routed as route,
// and the deliveries it causes, in one transaction. conv.ConnectionID
// names the connection a chat's reply goes out through. It reports how
// many deliveries were queued.
func (s *Service) Reply(ctx context.Context, conv domain.Conversation, route domain.Route, content string) (domain.Message, int, error) {
	var m domain.Message
	queued := 0
	err := s.store.Write(ctx, func(u *store.Unit) error {
		// An end that committed since the caller read the conversation wins.
		status, err := u.LockConversation(conv.ID)
		if err != nil {
			return err
		}
		if status == domain.ConversationEnded {
			return store.ErrConflict
		}
		t := u.Now()
		m = domain.Message{ID: store.NewID(), WorkspaceID: conv.WorkspaceID, IntegrationID: conv.IntegrationID, ConversationID: conv.ID,
			Direction: domain.Outbound, Content: content, ContentType: "text", SentAt: t, Status: domain.MessageStored, CreatedAt: t}
		ev := &domain.OutboundEvent{Kind: domain.OutboundMessage, WorkspaceID: conv.WorkspaceID, IntegrationID: conv.IntegrationID,
			Channel: route.Channel, Chat: route.Chat, Conversation: conv, Message: &m, At: t}
		ds, err := s.plan(ctx, ev)
		if err != nil {
			return err
		}
		// A reply that goes somewhere is queued until it gets there.
		for _, d := range ds {
			switch d.TargetType {
			case domain.TargetIntegration:
				m.Status = domain.MessageQueued
			case domain.TargetProvider:
				m.Status, m.ConnectionID = domain.MessageQueued, conv.ConnectionID
			}
		}
		if err := u.InsertOutboundMessage(m); err != nil {
			return err
		}
		if err := u.LogEvent(conv.WorkspaceID, conv.IntegrationID, domain.EventOK, domain.EventMessageSent); err != nil {
			return err
		}
		queued = len(ds)
		return u.InsertDeliveries(ev, ds)
	})
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return domain.Message{}, 0, err
	}
	if err != nil {
		return domain.Message{}, 0, fmt.Errorf("threads: reply in %s: %w", conv.ID, err)
	}
	s.live.Publish(live.Change{WorkspaceID: conv.WorkspaceID, ConversationID: conv.ID})
	return m, queued, nil
}

// Event types of conversation changes, in the event log.
const (
	EventConversationTransferred = "conversation.transferred"
	EventConversationEnded       = "conversation.ended"
)

// End ends a conversation and queues the end's deliveries in the same
// transaction; ending an ended one is store.ErrConflict. A chat's thread
// key is released, so the contact's next message opens a new chat; an
// app's thread keeps its key, since the app names it.
func (s *Service) End(ctx context.Context, workspaceID, conversationID string, route domain.Route) (domain.Conversation, int, error) {
	var conv domain.Conversation
	queued := 0
	err := s.store.Write(ctx, func(u *store.Unit) error {
		var err error
		if conv, err = u.Conversation(workspaceID, conversationID); err != nil {
			return err
		}
		if conv.Status == domain.ConversationEnded {
			return store.ErrConflict
		}
		if err := u.EndConversation(conv.ID, route.Chat); err != nil {
			return err
		}
		t := u.Now()
		conv.Status, conv.EndedAt = domain.ConversationEnded, &t
		if err := u.LogEvent(workspaceID, conv.IntegrationID, domain.EventOK, EventConversationEnded); err != nil {
			return err
		}
		queued, err = s.queue(ctx, u, &domain.OutboundEvent{Kind: domain.OutboundChatEnd, WorkspaceID: workspaceID,
			IntegrationID: conv.IntegrationID, Channel: route.Channel, Chat: route.Chat, Conversation: conv, At: t})
		return err
	})
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return conv, 0, err
	}
	if err != nil {
		return domain.Conversation{}, 0, fmt.Errorf("threads: end %s: %w", conversationID, err)
	}
	s.live.Publish(live.Change{WorkspaceID: workspaceID, ConversationID: conv.ID})
	return conv, queued, nil
}

// Transfer moves a conversation to a team and queues the transfer's
// deliveries in the same transaction; an unknown team is store.ErrTeamNotFound.
func (s *Service) Transfer(ctx context.Context, workspaceID, conversationID, teamID string, route domain.Route) (domain.Conversation, int, error) {
	var conv domain.Conversation
	queued := 0
	err := s.store.Write(ctx, func(u *store.Unit) error {
		var err error
		if conv, err = u.Conversation(workspaceID, conversationID); err != nil {
			return err
		}
		team, err := u.Team(workspaceID, teamID)
		if err != nil {
			return err
		}
		if err := u.SetConversationTeam(conv.ID, team.ID); err != nil {
			return err
		}
		if err := u.LogEvent(workspaceID, conv.IntegrationID, domain.EventOK, EventConversationTransferred); err != nil {
			return err
		}
		previous := conv.TeamID
		conv.TeamID = team.ID
		queued, err = s.queue(ctx, u, &domain.OutboundEvent{Kind: domain.OutboundTransfer, WorkspaceID: workspaceID,
			IntegrationID: conv.IntegrationID, Channel: route.Channel, Chat: route.Chat, Conversation: conv,
			PreviousTeamID: previous, Team: &team, At: u.Now()})
		return err
	})
	if errors.Is(err, store.ErrTeamNotFound) || errors.Is(err, store.ErrNotFound) {
		return conv, 0, err
	}
	if err != nil {
		return domain.Conversation{}, 0, fmt.Errorf("threads: transfer %s: %w", conversationID, err)
	}
	s.live.Publish(live.Change{WorkspaceID: workspaceID, ConversationID: conv.ID})
	return conv, queued, nil
}
