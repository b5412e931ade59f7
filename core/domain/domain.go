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
	ExternalID    string
	Subject       string
	Status        string
	Contact       Contact
	TeamID        string
	LastMessageAt time.Time
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
	CreatedAt      time.Time
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
