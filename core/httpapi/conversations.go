package httpapi

import (
	"encoding/json"
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
	LastMessageAt time.Time       `json:"lastMessageAt"`
	CreatedAt     time.Time       `json:"createdAt"`
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
}

type messageCreateRequest struct {
	Content *string `json:"content"`
}

// maxReplyLen bounds an agent reply.
const maxReplyLen = 64 << 10

func messageJSON(m domain.Message) messageResponse {
	return messageResponse{ID: m.ID, ConversationID: m.ConversationID, Direction: m.Direction, ExternalID: m.ExternalID,
		Content: m.Content, ContentType: m.ContentType, SentAt: m.SentAt, Status: m.Status}
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
	out := make([]conversationResponse, len(convs))
	for i, cv := range convs {
		ct := cv.Contact
		out[i] = conversationResponse{
			ID: cv.ID, IntegrationID: cv.IntegrationID, ExternalID: cv.ExternalID, Subject: cv.Subject, Status: cv.Status,
			Contact:       contactResponse{ID: ct.ID, ExternalID: ct.ExternalID, Name: ct.Name, Email: ct.Email, Phone: ct.Phone},
			LastMessageAt: cv.LastMessageAt, CreatedAt: cv.CreatedAt,
		}
	}
	c.JSON(http.StatusOK, listJSON("conversations", out, next))
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
	out := make([]messageResponse, len(msgs))
	for i, m := range msgs {
		out[i] = messageJSON(m)
	}
	c.JSON(http.StatusOK, listJSON("messages", out, next))
}

// replyPayload is what a reply's delivery carries; the target's request is
// rendered from it at each attempt.
type replyPayload struct {
	ConversationID string `json:"conversationId"`
	Content        string `json:"content"`
	MessageID      string `json:"messageId"`
	IntegrationID  string `json:"integrationId"`
}

// createMessage stores an agent's reply and, when the integration has a
// target, queues its delivery in the same transaction.
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
	in, err := s.Store.Integration(ctx, workspace(c), conv.IntegrationID)
	if err != nil && err != store.ErrNotFound {
		s.fail(c, err)
		return
	}
	var d *store.NewDelivery
	if err == nil && in.OutboundURL != "" {
		payload, err := json.Marshal(replyPayload{ConversationID: conv.ExternalID, Content: *req.Content, IntegrationID: in.ID})
		if err != nil {
			s.fail(c, err)
			return
		}
		d = &store.NewDelivery{EventType: domain.EventMessageSent, Payload: payload}
	}
	m, err := s.Store.CreateOutboundMessage(ctx, conv, *req.Content, d)
	if err != nil {
		s.fail(c, err)
		return
	}
	if d != nil {
		s.Deliveries.Notify()
	}
	c.JSON(http.StatusCreated, messageJSON(m))
}
