package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// The response API: a client's system answers in an existing chat, through
// one of the integration's active connections.

type responseChannel struct {
	Type       *string `json:"type"`
	Route      *string `json:"route"`
	Connection *string `json:"connection"`
	Sender     *string `json:"sender"`
}

type responseEventRequest struct {
	Type    *string          `json:"type"`
	Channel *responseChannel `json:"channel"`
	Msg     *string          `json:"msg"`
}

// maxResponseLen bounds a response message: WhatsApp's limit on text.
const maxResponseLen = 4096

// responseEvent takes POST /integrations/live-chat/{id}/chats/{chat}/events.
// 202 once the message (or the end) is durable; 401 for a bad token; 404
// when no chat has that identifier; 409 when the chat ended or the
// channel's reply window closed; 422 for an invalid body or a connection
// that is not active on the integration.
func (s *Server) responseEvent(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	in, ok := s.responseAuth(c, id)
	if !ok {
		s.fail(c, errUnauthorized("send the integration's response token as Authorization: Bearer sbr_…"))
		return
	}
	var req responseEventRequest
	if err := decode(c, &req); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			ae = &apiError{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: ae.Message}
			err = ae
		}
		s.fail(c, err)
		return
	}
	if req.Type == nil || (*req.Type != sdk.EventMessage && *req.Type != sdk.EventEnd) {
		s.fail(c, errInvalid("type must be \"MESSAGE\" or \"END\""))
		return
	}
	chatID := c.Param("chat")
	if err := sdk.CheckText("chatIdentifier", chatID); err != nil || len(chatID) > 255 {
		s.fail(c, errNotFound("no chat %s on this integration", sdk.Quote(chatID)))
		return
	}
	conv, err := s.responseChat(ctx, in.Integration, chatID)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(c, errNotFound("no chat %s on this integration: a chat exists once the contact has written", sdk.Quote(chatID)))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if conv.Status == domain.ConversationEnded {
		s.fail(c, errConflict("the chat with %s has ended", chatID))
		return
	}
	if *req.Type == sdk.EventEnd {
		conv, queued, err := s.Threads.End(ctx, in.WorkspaceID, conv.ID, s.Threads.Route(in.Integration, conv))
		if errors.Is(err, store.ErrConflict) {
			s.fail(c, errConflict("the chat with %s has ended", chatID))
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		if queued > 0 {
			s.Worker.Notify()
		}
		c.JSON(http.StatusAccepted, gin.H{"id": conv.ID, "status": conv.Status})
		return
	}
	if req.Msg == nil || strings.TrimSpace(*req.Msg) == "" {
		s.fail(c, errInvalid("msg is required"))
		return
	}
	if err := sdk.CheckText("msg", *req.Msg); err != nil {
		s.fail(c, errInvalid("%s", err.Error()))
		return
	}
	if len(*req.Msg) > maxResponseLen {
		s.fail(c, errInvalid("msg is longer than %d bytes", maxResponseLen))
		return
	}
	if conv.ConnectionID == "" {
		// A public kind's chat (the website chat): the hub streams the
		// answer to the visitor; there is no connection to choose.
		s.respondInPublicChat(c, in.Integration, conv, req.Channel, *req.Msg)
		return
	}
	conn, err := s.responseConnection(c, in.Integration, conv, req.Channel)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !s.Threads.WindowOpen(conn.Channel, conv, time.Now()) {
		w := s.Threads.ReplyWindow(conn.Channel)
		s.fail(c, errConflict("the %s reply window is closed: the contact's last message was more than %s ago; only a template message may be sent now",
			conn.Channel, windowText(w)))
		return
	}
	conv.ConnectionID, conv.Channel, conv.Sender = conn.ID, conn.Channel, conn.Sender
	m, queued, err := s.Threads.Reply(ctx, conv, domain.Route{Channel: conn.Channel, Chat: true}, *req.Msg)
	if errors.Is(err, store.ErrConflict) {
		s.fail(c, errConflict("the chat with %s has ended", chatID))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if queued > 0 {
		s.Worker.Notify()
	}
	c.JSON(http.StatusAccepted, gin.H{"id": m.ID, "status": m.Status})
}

// responseChat finds the chat an identifier names: a chat on one of the
// integration's connections (the contact's number), or, for a kind with
// public senders, the visitor's chat (the visitor id).
func (s *Server) responseChat(ctx context.Context, in domain.Integration, chatID string) (domain.Conversation, error) {
	conv, err := s.Store.Chat(ctx, in.ID, chatID)
	if !errors.Is(err, store.ErrNotFound) {
		return conv, err
	}
	if info, ok := s.Plugins.Info(in.Kind); !ok || info.AuthMode() != sdk.AuthPublic {
		return conv, err
	}
	return s.Store.PublicChat(ctx, in.ID, chatID)
}

// respondInPublicChat answers a visitor: the reply is stored and streamed
// to the visitor's widget, like an agent's. channel may be left out; given,
// its type names the integration's kind ("WEBCHAT").
func (s *Server) respondInPublicChat(c *gin.Context, in domain.Integration, conv domain.Conversation, ch *responseChannel, msg string) {
	want := strings.ToUpper(in.Kind)
	if ch != nil && ch.Type != nil && *ch.Type != "" && !strings.EqualFold(*ch.Type, want) {
		s.fail(c, errInvalid("channel.type: the chat with %s is a %s chat; answer it with channel.type %q, or leave channel out", conv.ExternalID, in.Kind, want))
		return
	}
	m, queued, err := s.Threads.Reply(c.Request.Context(), conv, s.Threads.Route(in, conv), msg)
	if errors.Is(err, store.ErrConflict) {
		s.fail(c, errConflict("the chat with %s has ended", conv.ExternalID))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if queued > 0 {
		s.Worker.Notify()
	}
	c.JSON(http.StatusAccepted, gin.H{"id": m.ID, "status": m.Status})
}

// responseAuth checks the bearer response token of an integration. An
// unknown integration answers as a wrong token does.
func (s *Server) responseAuth(c *gin.Context, id string) (domain.IntegrationAuth, bool) {
	if sdk.CheckText("id", id) != nil || len(id) > 64 {
		return domain.IntegrationAuth{}, false
	}
	v := c.GetHeader("Authorization")
	if len(v) <= 7 || !strings.EqualFold(v[:7], "bearer ") {
		return domain.IntegrationAuth{}, false
	}
	in, err := s.Integrations.Get(c.Request.Context(), id)
	if err != nil {
		return domain.IntegrationAuth{}, false
	}
	return in, auth.Matches(strings.TrimSpace(v[7:]), in.ResponseTokenHash)
}

// responseConnection picks the connection a response goes out through: an
// active connection of the integration on the channel the body names,
// matching its connection code, sender and route where given; with none
// given, the one the contact last wrote through.
func (s *Server) responseConnection(c *gin.Context, in domain.Integration, conv domain.Conversation, ch *responseChannel) (domain.Connection, error) {
	if ch == nil || ch.Type == nil || *ch.Type == "" {
		return domain.Connection{}, errInvalid("channel.type is required, e.g. \"SMS\" or \"WHATSAPP\"")
	}
	channel := strings.ToUpper(*ch.Type)
	if conv.Channel != "" && channel != conv.Channel {
		// The window and the contact's number belong to the chat's channel.
		return domain.Connection{}, errInvalid("channel.type: the chat with %s is on %s; answer it on %s", conv.ExternalID, conv.Channel, conv.Channel)
	}
	want := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	code, sender, route := want(ch.Connection), want(ch.Sender), want(ch.Route)
	ctx := c.Request.Context()
	states, err := s.Store.IntegrationConnections(ctx, in.WorkspaceID, []string{in.ID})
	if err != nil {
		return domain.Connection{}, err
	}
	for _, st := range states[in.ID] {
		if st.Status != domain.ConnectionActive || st.Channel != channel {
			continue
		}
		if code != "" && st.Code != code || sender != "" && st.Sender != sender {
			continue
		}
		if code == "" && sender == "" && st.ConnectionID != conv.ConnectionID {
			continue
		}
		conn, err := s.Store.Connection(ctx, in.WorkspaceID, st.ConnectionID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return domain.Connection{}, err
		}
		if route != "" && conn.Route != route {
			continue
		}
		return conn, nil
	}
	var which []string
	if code != "" {
		which = append(which, fmt.Sprintf("connection %q", code))
	}
	if sender != "" {
		which = append(which, fmt.Sprintf("sender %q", sender))
	}
	if route != "" {
		which = append(which, fmt.Sprintf("route %q", route))
	}
	desc := ""
	if len(which) > 0 {
		desc = " with " + strings.Join(which, ", ")
	}
	return domain.Connection{}, errInvalid("channel: no active %s connection%s on this integration", channel, desc)
}

// windowText words a reply window: "24 hours".
func windowText(d time.Duration) string {
	if d%time.Hour == 0 {
		h := int(d / time.Hour)
		if h == 1 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", h)
	}
	return d.String()
}
