package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard/core/cache"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
)

// Event types recorded on deliveries.
const (
	EventMessageReceived = "message.received"
	EventMessageSent     = "message.sent"
	EventChatEnded       = "chat.ended"
	EventTransfer        = "transfer"
)

// Planner turns outbound events into deliveries: to the integration's own
// target and to the workspace's webhook subscriptions. It runs inside the
// transaction that records the event.
type Planner struct {
	store *store.Store
	subs  *cache.TTL[[]domain.Subscription]
	ints  *cache.TTL[*integrationTarget]
}

// integrationTarget is what planning and sending need of an integration.
type integrationTarget struct {
	integration domain.Integration
	target      *Target // nil when the integration has no target
	disabled    bool
}

// NewPlanner makes a planner reading subscriptions and integrations from st.
func NewPlanner(st *store.Store) *Planner {
	return &Planner{
		store: st,
		subs:  cache.NewTTL[[]domain.Subscription](time.Second, 10_000),
		ints:  cache.NewTTL[*integrationTarget](time.Second, 10_000),
	}
}

// ForgetWorkspace drops a workspace's cached subscriptions after a change.
func (p *Planner) ForgetWorkspace(id string) { p.subs.Drop(id) }

// ForgetIntegration drops a cached integration after a change.
func (p *Planner) ForgetIntegration(id string) { p.ints.Drop(id) }

func (p *Planner) subscriptions(ctx context.Context, workspaceID string) ([]domain.Subscription, error) {
	if subs, ok := p.subs.Get(workspaceID); ok {
		return subs, nil
	}
	subs, err := p.store.EnabledSubscriptions(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	p.subs.Put(workspaceID, subs)
	return subs, nil
}

// integration returns an integration with its parsed target.
func (p *Planner) integration(ctx context.Context, workspaceID, id string) (*integrationTarget, error) {
	if it, ok := p.ints.Get(id); ok {
		return it, nil
	}
	in, err := p.store.Integration(ctx, workspaceID, id)
	if err != nil {
		return nil, err
	}
	it := &integrationTarget{integration: in, disabled: in.DeliveryDisabledAt != nil}
	switch {
	case len(in.Delivery) > 0:
		// Validated when saved; parse without re-checking the address policy.
		t, err := ParseTarget(in.Delivery, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("integration %s: stored delivery: %w", id, err)
		}
		it.target = t
	case in.OutboundURL != "":
		it.target = &Target{Method: "POST", URL: in.OutboundURL}
	}
	p.ints.Put(id, it)
	return it, nil
}

// Plan returns the deliveries an event causes.
func (p *Planner) Plan(ctx context.Context, ev *domain.OutboundEvent) ([]store.NewDelivery, error) {
	var out []store.NewDelivery
	if d, err := p.planIntegration(ctx, ev); err != nil {
		return nil, err
	} else if d != nil {
		out = append(out, *d)
	}
	if d := planProvider(ev); d != nil {
		out = append(out, *d)
	}
	subs, err := p.subscriptions(ctx, ev.WorkspaceID)
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return out, nil
	}
	teamID := ev.Conversation.TeamID
	if ev.Kind == domain.OutboundMessage && teamID == "" && ev.Conversation.ID != "" {
		// The hot path does not carry the team: look it up only when a subscription needs it.
		teamID, _ = p.store.ConversationTeam(ctx, ev.Conversation.ID)
	}
	for i := range subs {
		if d := planSubscription(&subs[i], ev, teamID); d != nil {
			out = append(out, *d)
		}
	}
	return out, nil
}

// planIntegration: agent replies in app-API conversations, and contact
// messages and chat ends in chats (whose replies a plugin sends: on
// connections, in the widget) go to the integration's own target.
func (p *Planner) planIntegration(ctx context.Context, ev *domain.OutboundEvent) (*store.NewDelivery, error) {
	var eventType string
	switch {
	case ev.Kind == domain.OutboundMessage && !ev.Chat && ev.Message.Direction == domain.Outbound:
		eventType = EventMessageSent
	case ev.Kind == domain.OutboundMessage && ev.Chat && ev.Message.Direction == domain.Inbound:
		eventType = EventMessageReceived
	case ev.Kind == domain.OutboundChatEnd && ev.Chat:
		eventType = EventChatEnded
	default:
		return nil, nil
	}
	it, err := p.integration(ctx, ev.WorkspaceID, ev.IntegrationID)
	if err == store.ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if it.target == nil {
		return nil, nil
	}
	payload, err := json.Marshal(Vars(ev))
	if err != nil {
		return nil, err
	}
	d := &store.NewDelivery{TargetType: domain.TargetIntegration, EventType: eventType, Payload: payload}
	if it.target.IsOrdered() {
		d.OrderingKey = "i:" + ev.IntegrationID + ":" + ev.Conversation.ID
	}
	if it.disabled {
		d.Status, d.LastError = domain.DeliveryFailed, "target is disabled; update the integration's delivery to enable it"
	}
	return d, nil
}

// EventProviderSend is the event type of a message sent through a provider.
const EventProviderSend = "message.send"

// ProviderPayload is what a provider delivery needs to send a message.
type ProviderPayload struct {
	ConnectionID string `json:"connectionId"`
	To           string `json:"to"`
	Content      string `json:"content"`
	ContentType  string `json:"contentType,omitempty"`
	MediaURL     string `json:"mediaUrl,omitempty"`
}

// planProvider: a reply in a chat on a connection goes out through the
// connection's plugin, as a delivery of its own, in the chat's order.
func planProvider(ev *domain.OutboundEvent) *store.NewDelivery {
	if ev.Kind != domain.OutboundMessage || !ev.Chat || ev.Message == nil || ev.Message.Direction != domain.Outbound ||
		ev.Conversation.ConnectionID == "" {
		return nil
	}
	to := ev.Conversation.Contact.Phone
	if to == "" {
		to = ev.Conversation.Contact.ExternalID
	}
	if to == "" {
		to = ev.Conversation.ExternalID
	}
	payload, err := json.Marshal(ProviderPayload{ConnectionID: ev.Conversation.ConnectionID, To: to, Content: ev.Message.Content,
		ContentType: ev.Message.ContentType, MediaURL: ev.Message.MediaURL})
	if err != nil {
		return nil
	}
	return &store.NewDelivery{TargetType: domain.TargetProvider, EventType: EventProviderSend, Payload: payload,
		OrderingKey: "p:" + ev.Conversation.ID}
}

// Vars are an event's template variables.
func Vars(ev *domain.OutboundEvent) map[string]string {
	c := ev.Conversation.Contact
	contact := c.Phone
	if contact == "" {
		contact = c.ExternalID
	}
	v := map[string]string{
		"chatId":             ev.Conversation.ExternalID,
		"conversationId":     ev.Conversation.ExternalID,
		"contact":            contact,
		"contact.name":       c.Name,
		"contact.email":      c.Email,
		"contact.externalId": c.ExternalID,
		"channel":            ev.Channel,
		"integrationId":      ev.IntegrationID,
		"event":              "MESSAGE",
		"timestamp":          ev.At.UTC().Format(time.RFC3339Nano),
		"multimedia.url":     "",
		"multimedia.caption": "",
		"sender":             ev.Conversation.Sender,
		"direction":          domain.Inbound,
	}
	if m := ev.Message; m != nil {
		v["direction"] = m.Direction
		v["messageId"] = m.ID
		v["content"] = m.Content
		v["text"] = m.Content
		v["timestamp"] = m.SentAt.UTC().Format(time.RFC3339Nano)
		v["multimedia.url"] = m.MediaURL
		v["multimedia.caption"] = m.MediaCaption
	}
	if ev.Kind == domain.OutboundChatEnd {
		v["event"] = "END"
	}
	return v
}

func planSubscription(s *domain.Subscription, ev *domain.OutboundEvent, teamID string) *store.NewDelivery {
	var payload any
	var eventType string
	switch ev.Kind {
	case domain.OutboundMessage:
		if !s.Subscribes(domain.SubscribeMessages) {
			return nil
		}
		eventType = "message"
		if s.Format == domain.FormatLegacy {
			payload = legacyMessagePayload(ev, teamID)
		} else {
			payload = messagePayload(ev, teamID)
		}
	case domain.OutboundTransfer:
		if !s.Subscribes(domain.SubscribeTransfers) || s.Format == domain.FormatLegacy {
			return nil
		}
		eventType = EventTransfer
		payload = transferPayload(ev)
	default:
		return nil
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil
	}
	d := &store.NewDelivery{TargetType: domain.TargetSubscription, SubscriptionID: s.ID, EventType: eventType, Payload: body}
	if ev.Kind == domain.OutboundMessage {
		d.OrderingKey = "s:" + s.ID + ":" + ev.Conversation.ID
	}
	return d
}

// The subscription payloads use the field names of the webhook spec the
// subscriptions API follows; ids are the hub's string ids.

type messageEvent struct {
	EventType string      `json:"eventType"`
	Timestamp int64       `json:"timestamp"`
	Data      messageData `json:"data"`
}

type messageData struct {
	FromCustomer                   bool    `json:"fromCustomer"`
	Invisible                      bool    `json:"invisible"`
	CustomerThreadID               string  `json:"customerThreadId"`
	BusinessID                     *string `json:"businessId"`
	OrganizationID                 string  `json:"organizationId"`
	CustomerID                     string  `json:"customerId"`
	CustomerType                   string  `json:"customerType"`
	MessageID                      string  `json:"messageId"`
	MessageBody                    string  `json:"messageBody"`
	MessageTimestamp               int64   `json:"messageTimestamp"`
	MessageAttachmentUUID          *string `json:"messageAttachmentUUID"`
	MessageAttachmentContentType   *string `json:"messageAttachmentContentType"`
	MessageAttachmentName          *string `json:"messageAttachmentName"`
	MessageAttachmentContentLength *int64  `json:"messageAttachmentContentLength"`
	Channel                        string  `json:"channel"`
	IntegrationID                  string  `json:"integrationId"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func messagePayload(ev *domain.OutboundEvent, teamID string) messageEvent {
	m := ev.Message
	return messageEvent{
		EventType: "message",
		Timestamp: ev.At.UnixMilli(),
		Data: messageData{
			FromCustomer:     m.Direction == domain.Inbound,
			CustomerThreadID: ev.Conversation.ID,
			BusinessID:       optional(teamID),
			OrganizationID:   ev.WorkspaceID,
			CustomerID:       ev.Conversation.Contact.ID,
			CustomerType:     "contact",
			MessageID:        m.ID,
			MessageBody:      m.Content,
			MessageTimestamp: m.SentAt.UnixMilli(),
			Channel:          ev.Channel,
			IntegrationID:    ev.IntegrationID,
		},
	}
}

type legacyMessage struct {
	CustomerID                     string  `json:"customerId"`
	CustomerThreadID               string  `json:"customerThreadId"`
	MessageTimestamp               int64   `json:"messageTimestamp"`
	EmployeeUserID                 *string `json:"employeeUserId"`
	MessageID                      string  `json:"messageId"`
	MessageBody                    string  `json:"messageBody"`
	BusinessID                     *string `json:"businessId"`
	MessageAttachmentName          *string `json:"messageAttachmentName"`
	MessageAttachmentContentType   *string `json:"messageAttachmentContentType"`
	MessageAttachmentUUID          *string `json:"messageAttachmentUUID"`
	MessageAttachmentContentLength *int64  `json:"messageAttachmentContentLength"`
	FromCustomer                   bool    `json:"fromCustomer"`
	MessageExternalID              *string `json:"messageExternalId"`
	Invisible                      bool    `json:"invisible"`
	CustomerType                   string  `json:"customerType"`
}

func legacyMessagePayload(ev *domain.OutboundEvent, teamID string) legacyMessage {
	m := ev.Message
	return legacyMessage{
		CustomerID:        ev.Conversation.Contact.ID,
		CustomerThreadID:  ev.Conversation.ID,
		MessageTimestamp:  m.SentAt.UnixMilli(),
		MessageID:         m.ID,
		MessageBody:       m.Content,
		BusinessID:        optional(teamID),
		FromCustomer:      m.Direction == domain.Inbound,
		MessageExternalID: optional(m.ExternalID),
		CustomerType:      "contact",
	}
}

type transferEvent struct {
	EventType string       `json:"eventType"`
	Timestamp int64        `json:"timestamp"`
	Data      transferData `json:"data"`
}

type transferData struct {
	CustomerThreadID        string  `json:"customerThreadId"`
	OrganizationID          string  `json:"organizationId"`
	PreviousBusinessID      *string `json:"previousBusinessId"`
	NewBusinessID           string  `json:"newBusinessId"`
	NewBusinessName         string  `json:"newBusinessName"`
	EmployeeUserID          *string `json:"employeeUserId"`
	BusinessParticipationID *string `json:"businessParticipationId"`
	CustomerChannel         string  `json:"customerChannel"`
}

func transferPayload(ev *domain.OutboundEvent) transferEvent {
	return transferEvent{
		EventType: "transfer",
		Timestamp: ev.At.UnixMilli(),
		Data: transferData{
			CustomerThreadID:   ev.Conversation.ID,
			OrganizationID:     ev.WorkspaceID,
			PreviousBusinessID: optional(ev.PreviousTeamID),
			NewBusinessID:      ev.Team.ID,
			NewBusinessName:    ev.Team.Name,
			CustomerChannel:    ev.Channel,
		},
	}
}
