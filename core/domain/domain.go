// Package domain holds the hub's plain types. They carry no storage or
// transport tags: the store maps them to rows, the HTTP API to wire types.
package domain

import (
	"encoding/json"
	"time"
)

// Workspace isolates one customer's objects from every other's.
type Workspace struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// User is a login for the admin UI. PasswordHash is a bcrypt hash.
type User struct {
	ID           string
	WorkspaceID  string
	Email        string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
}

// Roles of a user: an owner and an admin configure the workspace (an
// owner also manages users); an agent sees and answers conversations only.
const (
	RoleOwner = "owner"
	RoleAdmin = "admin"
	RoleAgent = "agent"
)

// Session is a logged-in browser. ID is the SHA-256 of the cookie value.
type Session struct {
	ID        string
	CSRFToken string
	ExpiresAt time.Time
	User      User
}

// AdminToken describes an admin API token. The token itself is shown once,
// when it is made, and stored only as a hash: no AdminToken carries it.
type AdminToken struct {
	ID          string
	WorkspaceID string
	Name        string
	CreatedAt   time.Time
	// LastUsedAt is when the token last authenticated a request, to within
	// a minute; nil when it never has.
	LastUsedAt *time.Time
}

// Integration statuses.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// Integration is a configured channel into and out of a workspace.
type Integration struct {
	ID          string
	WorkspaceID string
	Name        string
	// Kind names the plugin that handles the integration's inbound side.
	Kind        string
	Status      string
	OutboundURL string
	// Delivery is the target configuration as JSON, or nil.
	Delivery json.RawMessage
	// Config is the kind's own settings, as its plugin's schema describes
	// them; passed to the plugin with every request.
	Config json.RawMessage
	// Connections are the codes of the connections the integration uses,
	// in the order the admin listed them.
	Connections []string
	// DeliveryDisabledAt is set when the target was disabled after failing
	// continuously; an update of the target enables it again.
	DeliveryDisabledAt *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// IntegrationAuth is what inbound authentication needs: kept apart from
// Integration so that hashes never travel further than they must.
type IntegrationAuth struct {
	Integration
	APIKeyHash        []byte
	ResponseTokenHash []byte
}

// Contact is a person messages come from.
type Contact struct {
	ID          string
	WorkspaceID string
	ExternalID  string
	Name        string
	Email       string
	Phone       string
	CreatedAt   time.Time
}

// Conversation statuses.
const (
	ConversationOpen  = "open"
	ConversationEnded = "ended"
)

// Conversation is one thread of messages on one integration.
type Conversation struct {
	ID            string
	WorkspaceID   string
	IntegrationID string
	// ExternalID is the app's conversationId or the channel's chat id.
	ExternalID string
	Subject    string
	Status     string
	Contact    Contact
	TeamID     string
	// ConnectionID, Channel and Sender are set for a chat on a connection:
	// the connection it came in through, its channel and the hub-side
	// sender the contact wrote to.
	ConnectionID  string
	Channel       string
	Sender        string
	LastMessageAt time.Time
	// LastInboundAt is the time of the contact's latest message, which
	// opens a channel's reply window.
	LastInboundAt *time.Time
	EndedAt       *time.Time
	CreatedAt     time.Time
}

// Message directions.
const (
	Inbound  = "inbound"
	Outbound = "outbound"
)

// Message statuses.
const (
	MessageReceived = "received"
	MessageStored   = "stored"
	// An outbound message is queued until its delivery to the integration's
	// target ends: sent, failed (failed or dead), or skipped by the transform.
	MessageQueued  = "queued"
	MessageSent    = "sent"
	MessageFailed  = "failed"
	MessageSkipped = "skipped"
	// A message sent through a provider is delivered once the provider
	// reports it reached the contact.
	MessageDelivered = "delivered"
)

// MessageStatusOf is the status an outbound message takes when its
// delivery reaches deliveryStatus; "" while the delivery is pending.
func MessageStatusOf(deliveryStatus string) string {
	switch deliveryStatus {
	case DeliverySucceeded:
		return MessageSent
	case DeliveryFailed, DeliveryDead:
		return MessageFailed
	case DeliverySkipped:
		return MessageSkipped
	case DeliveryPending:
		return MessageQueued
	}
	return ""
}

// statusRank orders the statuses a provider reports: a report never moves
// a message back (a late "sent" after "delivered"), and a failure never
// undoes a delivery.
var statusRank = map[string]int{MessageQueued: 0, MessageSent: 1, MessageFailed: 2, MessageDelivered: 3}

// MessageStatusAdvances reports whether a provider's report of next moves
// a message that is cur forward.
func MessageStatusAdvances(cur, next string) bool {
	n, ok := statusRank[next]
	if !ok {
		return false
	}
	c, ok := statusRank[cur]
	return !ok || n > c
}

// Message is one message in a conversation.
type Message struct {
	ID             string
	WorkspaceID    string
	IntegrationID  string
	ConversationID string
	Direction      string
	ExternalID     string
	Content        string
	ContentType    string
	SentAt         time.Time
	Status         string
	// Error is why an outbound message failed, as the provider said.
	Error        string
	MediaURL     string
	MediaCaption string
	// ConnectionID is the connection a chat's message came or went through.
	ConnectionID string
	CreatedAt    time.Time
}

// Event-log statuses, as the custom webhook defines them.
const (
	EventOK               = "ok"
	EventSignatureFailure = "signature_failure"
	EventSkip             = "skip"
	EventRoutingError     = "routing_error"
)

// Event types.
const (
	EventMessageReceived = "message.received"
	EventMessageSent     = "message.sent"
)

// Event is one entry of an integration's event log.
type Event struct {
	ID            string
	WorkspaceID   string
	IntegrationID string
	Status        string
	EventType     string
	Error         string
	CreatedAt     time.Time
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
	DeliveryDead      = "dead"
	DeliverySkipped   = "skipped"
)

// Delivery is one event on its way to one target.
type Delivery struct {
	ID             string
	WorkspaceID    string
	IntegrationID  string
	ConversationID string
	MessageID      string
	EventType      string
	// Payload is the event's JSON: template variables for an integration
	// target, rendered at each attempt; the body itself for a subscription.
	Payload        json.RawMessage
	TargetType     string
	SubscriptionID string
	Status         string
	AttemptCount   int
	NextAttemptAt  time.Time
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Attempts       []Attempt
}

// Attempt is one try at a delivery.
type Attempt struct {
	N               int
	StatusCode      int
	DurationMs      int64
	Error           string
	ResponseExcerpt string
	// Logs is what a transform printed during the attempt.
	Logs []string
	At   time.Time
}

// Page asks for one page of a newest-first list.
type Page struct {
	Limit  int
	Cursor string
}

// Connection statuses on an integration.
const (
	ConnectionActive   = "active"
	ConnectionInactive = "inactive"
)

// Connection is a workspace's sender on a provider's channel: an SMS
// number or code, a WhatsApp business number.
type Connection struct {
	ID          string
	WorkspaceID string
	// Code is the admin's name for it, unique in the workspace.
	Code string
	// Channel is the channel its plugin serves ("SMS", "WHATSAPP").
	Channel string
	// Sender is the number or code contacts write to.
	Sender string
	// Route is the provider route outbound SMS take, if the provider has routes.
	Route string
	// Provider is the provider settings, secrets included, as JSON.
	Provider  json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ConnectionState is one listed connection's activation on an integration.
type ConnectionState struct {
	Code         string
	ConnectionID string
	Channel      string
	Sender       string
	Status       string
	// Error says why the connection could not be activated.
	Error string
}

// Campaign types and statuses.
const (
	CampaignChatbot = "chatbot"
	CampaignKeyword = "keyword"
	CampaignDraft   = "draft"
	CampaignLive    = "live"
	CampaignPaused  = "paused"
)

// Campaign is a chatbot or keyword campaign, as far as integrations need
// one: what it links and which senders it uses while live.
type Campaign struct {
	ID            string
	WorkspaceID   string
	Name          string
	Type          string
	IntegrationID string
	Senders       []string
	Status        string
	// IntegratedAt is when the campaign first went live linked to its integration.
	IntegratedAt *time.Time
	CreatedAt    time.Time
}

// AutoReply answers inbound traffic on a connection's sender while active.
type AutoReply struct {
	ID          string
	WorkspaceID string
	// Connection is the connection's code.
	Connection string
	Message    string
	Active     bool
	CreatedAt  time.Time
}
