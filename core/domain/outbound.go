package domain

import "time"

// Header is a name and value sent with a delivery.
type Header struct {
	Name  string
	Value string
}

// Subscription event names, as webhook subscriptions spell them.
const (
	SubscribeMessages  = "messages"
	SubscribeTransfers = "transfers"
)

// FormatLegacy is the subscription format that receives flat message payloads only.
const FormatLegacy = "legacy"

// Subscription is a workspace's webhook subscription.
type Subscription struct {
	ID               string
	WorkspaceID      string
	URL              string
	Enabled          bool
	SubscribedEvents []string
	ExtraHeaders     []Header
	Format           string
	DisabledReason   string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Subscribes reports whether the subscription wants an event kind.
func (s *Subscription) Subscribes(kind string) bool {
	for _, e := range s.SubscribedEvents {
		if e == kind {
			return true
		}
	}
	return false
}

// Team is a group a conversation can be transferred to.
type Team struct {
	ID          string
	WorkspaceID string
	Name        string
	CreatedAt   time.Time
}

// Kinds of outbound event.
const (
	OutboundMessage  = "message"
	OutboundTransfer = "transfer"
	OutboundChatEnd  = "chat.end"
)

// OutboundEvent is something that happened which targets may be told of. The
// store builds one inside the transaction that records it, and a planner
// turns it into deliveries written in that same transaction.
type OutboundEvent struct {
	Kind          string
	WorkspaceID   string
	IntegrationID string
	// Channel is the integration's kind or the connection's channel.
	Channel string
	// Chat says the conversation is a chat whose replies a plugin sends
	// (a connection's provider, the webchat widget): the contact's messages
	// and the chat's end go to the integration's target. Otherwise the
	// conversation came in through an app's API, and agent replies go to
	// the target.
	Chat         bool
	Conversation Conversation
	Message      *Message
	// PreviousTeamID and Team are set for transfers.
	PreviousTeamID string
	Team           *Team
	At             time.Time
}

// Route says how a conversation's events travel: the channel to name in
// them, and whether it is a chat (see OutboundEvent.Chat).
type Route struct {
	Channel string
	Chat    bool
}

// Delivery targets.
const (
	TargetIntegration  = "integration"
	TargetSubscription = "subscription"
	// TargetProvider sends a message through its connection's plugin.
	TargetProvider = "provider"
)
