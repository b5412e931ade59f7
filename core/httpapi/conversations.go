package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
)

type contactResponse struct {
	ID         string `json:"id"`
	ExternalID string `json:"externalId"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
}

type conversationResponse struct {
	ID            string          `json:"id"`
	IntegrationID string          `json:"integrationId"`
	ExternalID    string          `json:"externalId"`
	Subject       string          `json:"subject"`
	Status        string          `json:"status"`
	Contact       contactResponse `json:"contact"`
	TeamID        string          `json:"teamId,omitempty"`
	// Channel and Sender are set for a chat on a connection.
	Channel       string     `json:"channel,omitempty"`
	Sender        string     `json:"sender,omitempty"`
	LastMessageAt time.Time  `json:"lastMessageAt"`
	LastInboundAt *time.Time `json:"lastInboundAt,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
}

type messageResponse struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversationId"`
	Direction      string    `json:"direction"`
	ExternalID     string    `json:"externalId"`
	Content        string    `json:"content"`
	ContentType    string    `json:"contentType"`
	SentAt         time.Time `json:"sentAt"`
	Status         string    `json:"status"`
	// Error is why a message failed, as the provider said.
	Error string `json:"error,omitempty"`
	// Media is an attachment's URL and caption, when there is one.
	MediaURL     string `json:"mediaUrl,omitempty"`
	MediaCaption string `json:"mediaCaption,omitempty"`
}

type messageCreateRequest struct {
	Content *string `json:"content"`
}

// maxReplyLen bounds an agent reply.
const maxReplyLen = 64 << 10

func conversationJSON(cv domain.Conversation) conversationResponse {
	ct := cv.Contact
	return conversationResponse{
		ID: cv.ID, IntegrationID: cv.IntegrationID, ExternalID: cv.ExternalID, Subject: cv.Subject, Status: cv.Status,
		Contact: contactResponse{ID: ct.ID, ExternalID: ct.ExternalID, Name: ct.Name, Email: ct.Email, Phone: ct.Phone},
		TeamID:  cv.TeamID,
		Channel: cv.Channel, Sender: cv.Sender,
		LastMessageAt: cv.LastMessageAt, LastInboundAt: cv.LastInboundAt, CreatedAt: cv.CreatedAt,
	}
}

func messageJSON(m domain.Message) messageResponse {
	return messageResponse{ID: m.ID, ConversationID: m.ConversationID, Direction: m.Direction, ExternalID: m.ExternalID,
		Content: m.Content, ContentType: m.ContentType, SentAt: m.SentAt, Status: m.Status, Error: m.Error,
		MediaURL: m.MediaURL, MediaCaption: m.MediaCaption}
}

func (s *Server) listConversations(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	convs, next, err := s.Store.Conversations(c.Request.Context(), workspace(c), store.ConversationFilter{IntegrationID: c.Query("integrationId")}, page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("conversations", mapAll(convs, conversationJSON), next))
}

// listConversationIntegrations names the workspace's integrations, newest
// first: their ids and names only, what an inbox needs to label and filter
// threads, and nothing of their configuration. The admin UI shows it to
// agents, who may read conversations but never configuration.
func (s *Server) listConversationIntegrations(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ins, next, err := s.Store.Integrations(c.Request.Context(), workspace(c), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("integrations", mapAll(ins, func(in domain.Integration) gin.H {
		return gin.H{"id": in.ID, "name": in.Name}
	}), next))
}

// getConversation answers one conversation, in the shape of the list's items.
func (s *Server) getConversation(c *gin.Context) {
	conv, err := s.Store.Conversation(c.Request.Context(), workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "conversation"))
		return
	}
	c.JSON(http.StatusOK, conversationJSON(conv))
}

func (s *Server) listMessages(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	conv, err := s.Store.Conversation(ctx, workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "conversation"))
		return
	}
	msgs, next, err := s.Store.Messages(ctx, workspace(c), conv.ID, page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("messages", mapAll(msgs, messageJSON), next))
}

// createMessage stores an agent's reply; the deliveries it causes (to the
// integration's target, to subscriptions) are queued in the same transaction.
func (s *Server) createMessage(c *gin.Context) {
	var req messageCreateRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Content == nil || strings.TrimSpace(*req.Content) == "" {
		s.fail(c, errInvalid("content is required"))
		return
	}
	if len(*req.Content) > maxReplyLen {
		s.fail(c, errInvalid("content is longer than 64 KiB"))
		return
	}
	ctx := c.Request.Context()
	conv, err := s.Store.Conversation(ctx, workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "conversation"))
		return
	}
	if conv.Status == domain.ConversationEnded {
		s.fail(c, errConflict("the conversation has ended"))
		return
	}
	route := s.routeOf(c, conv)
	if route.Chat && conv.ConnectionID != "" {
		active, err := s.connectionActive(ctx, conv)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !active {
			s.fail(c, errConflict("the connection this chat came through is not active on its integration; start the integration to answer"))
			return
		}
		if !s.Threads.WindowOpen(conv.Channel, conv, time.Now()) {
			s.fail(c, errConflict("the %s reply window is closed: the contact's last message was more than %s ago",
				conv.Channel, windowText(s.Threads.ReplyWindow(conv.Channel))))
			return
		}
	}
	m, queued, err := s.Threads.Reply(ctx, conv, route, *req.Content)
	if errors.Is(err, store.ErrConflict) {
		s.fail(c, errConflict("the conversation has ended"))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if queued > 0 {
		s.Worker.Notify()
	}
	c.JSON(http.StatusCreated, messageJSON(m))
}

// connectionActive reports whether the connection a chat came through is
// active on the chat's integration.
func (s *Server) connectionActive(ctx context.Context, conv domain.Conversation) (bool, error) {
	states, err := s.Store.IntegrationConnections(ctx, conv.WorkspaceID, []string{conv.IntegrationID})
	if err != nil {
		return false, err
	}
	for _, st := range states[conv.IntegrationID] {
		if st.ConnectionID == conv.ConnectionID && st.Status == domain.ConnectionActive {
			return true, nil
		}
	}
	return false, nil
}

// routeOf is how a conversation's events travel (see threads.Service.Route).
func (s *Server) routeOf(c *gin.Context, conv domain.Conversation) domain.Route {
	in, err := s.Store.Integration(c.Request.Context(), workspace(c), conv.IntegrationID)
	if err != nil {
		return domain.Route{Channel: conv.Channel, Chat: conv.ConnectionID != ""}
	}
	return s.Threads.Route(in, conv)
}

// conversationAction runs a change on a conversation of the workspace and
// answers with it, telling the worker when the change queued deliveries.
func (s *Server) conversationAction(c *gin.Context, act func(ctx context.Context, conv domain.Conversation, route domain.Route) (domain.Conversation, int, error)) {
	ctx := c.Request.Context()
	conv, err := s.Store.Conversation(ctx, workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "conversation"))
		return
	}
	conv, queued, err := act(ctx, conv, s.routeOf(c, conv))
	if err != nil {
		s.fail(c, notFoundAs(err, "conversation"))
		return
	}
	if queued > 0 {
		s.Worker.Notify()
	}
	c.JSON(http.StatusOK, conversationJSON(conv))
}

// transferConversation moves a conversation to a team; subscriptions to
// transfers are told in the same transaction.
func (s *Server) transferConversation(c *gin.Context) {
	var req transferRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.TeamID == nil || *req.TeamID == "" {
		s.fail(c, errInvalid("teamId is required"))
		return
	}
	s.conversationAction(c, func(ctx context.Context, conv domain.Conversation, route domain.Route) (domain.Conversation, int, error) {
		conv, queued, err := s.Threads.Transfer(ctx, conv.WorkspaceID, conv.ID, *req.TeamID, route)
		if errors.Is(err, store.ErrTeamNotFound) {
			return conv, 0, errInvalid("teamId: no team %q in this workspace", *req.TeamID)
		}
		return conv, queued, err
	})
}

// endConversation ends a conversation; replies to it are refused from then on.
func (s *Server) endConversation(c *gin.Context) {
	s.conversationAction(c, func(ctx context.Context, conv domain.Conversation, route domain.Route) (domain.Conversation, int, error) {
		conv, queued, err := s.Threads.End(ctx, conv.WorkspaceID, conv.ID, route)
		if errors.Is(err, store.ErrConflict) {
			return conv, 0, errConflict("the conversation has already ended")
		}
		return conv, queued, err
	})
}

type transferRequest struct {
	TeamID *string `json:"teamId"`
}

type teamCreateRequest struct {
	Name *string `json:"name"`
}

func teamJSON(t domain.Team) gin.H {
	return gin.H{"id": t.ID, "name": t.Name, "createdAt": t.CreatedAt}
}

// listTeams lists the workspace's teams, newest first.
func (s *Server) listTeams(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	teams, next, err := s.Store.Teams(c.Request.Context(), workspace(c), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("teams", mapAll(teams, teamJSON), next))
}

func (s *Server) createTeam(c *gin.Context) {
	var req teamCreateRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	name, err := validName(req.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.Store.CreateTeam(c.Request.Context(), workspace(c), name)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, teamJSON(t))
}
