// Package sdk is what a Switchboard channel plugin imports.
//
// A plugin is a separate executable that the hub starts and talks to over
// gRPC (hashicorp/go-plugin). It declares its kind, turns provider HTTP
// traffic into normalised messages, and sends outbound messages. The protocol
// buffers are an implementation detail: plugin authors see only the plain Go
// types in this package.
//
//	func main() {
//		sdk.Serve(&MyChannel{})
//	}
package sdk

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// ProtocolVersion is the version of the plugin protocol this SDK speaks.
// The hub negotiates it when it starts a plugin: it speaks every earlier
// version too, so a plugin built against an earlier SDK keeps working, and
// one built against a later protocol than the hub knows is refused with a
// message naming both sides' versions.
//
// Version 2 added, all as new fields: a kind's channel, authentication,
// sending and reply window in Describe; status reports in inbound
// results; the message id, callback URL and address policy in sends.
// Version 3 added the checks of ConfigChecker and Activator.
const ProtocolVersion = 3

// AuthMode says how a kind's inbound traffic is authenticated.
type AuthMode string

// Authentication modes.
const (
	// AuthAPIKey: the hub checks the integration's inbound API key (the
	// X-Api-Key header, or Authorization: Bearer) before the plugin is
	// called, and removes it from the request the plugin sees.
	AuthAPIKey AuthMode = "api_key"
	// AuthSignature: the plugin checks the provider's signature itself,
	// with the secrets in the connection's configuration, and refuses a bad
	// one with Reject(ReasonBadSignature, …).
	AuthSignature AuthMode = "signature"
	// AuthPublic: the traffic comes from people who hold no key at all,
	// such as the visitors of a website chat. The hub authenticates
	// nothing and removes nothing; the plugin checks what the sender sends
	// and refuses what it cannot accept. A public kind's conversations are
	// chats the hub carries live to the sender (see Info.Sends), and the
	// ThreadExternalID of each message is what the sender later presents to
	// read its conversation: make it an unguessable secret the sender
	// holds (at least 128 random bits; the hub refuses keys shorter than
	// 22 characters), never something another person could know.
	AuthPublic AuthMode = "public"
)

// Info describes a plugin to the hub.
type Info struct {
	// Kind names the plugin, e.g. "custom" or "sms". It names the inbound
	// path /api/webhooks/{kind}/{id}.
	Kind string
	// Version is the plugin's own version, for logs and the admin API.
	Version string
	// DisplayName is shown to admins.
	DisplayName string
	// Channel is set by a plugin that serves connections: the channel
	// admins choose for a connection ("SMS", "WHATSAPP"). Its traffic then
	// arrives at /api/webhooks/{kind}/{connectionId}, and ConfigSchema
	// describes a connection's provider settings. Empty for a kind whose
	// traffic belongs to an integration (the custom webhook).
	Channel string
	// Auth says who authenticates inbound traffic; empty means AuthAPIKey.
	Auth AuthMode
	// Sends says that replies go out through Send, to a provider. Then the
	// contact's messages and chat ends are delivered to the integration's
	// target, and agent replies are sent by the plugin. A public kind
	// (AuthPublic) is a chat too without sending anything: the hub streams
	// agent replies to the sender itself. Otherwise agent replies are
	// delivered to the target.
	Sends bool
	// ReplyWindow is how long after a contact's last message the channel
	// accepts a free-form reply (WhatsApp's 24 hours); 0 means always.
	ReplyWindow time.Duration
	// ConfigSchema is a JSON Schema document (draft 2020-12 or earlier) for
	// the configuration the hub passes in InboundRequest.Config and
	// SendRequest.Config, or empty when the plugin takes none. The hub
	// validates configuration against it when an admin saves it.
	ConfigSchema string
}

// AuthMode returns the info's authentication mode, AuthAPIKey by default.
func (i Info) AuthMode() AuthMode {
	if i.Auth == "" {
		return AuthAPIKey
	}
	return i.Auth
}

// InboundRequest is one HTTP request a provider or app sent to the hub.
type InboundRequest struct {
	IntegrationID string
	ConnectionID  string
	Method        string
	// URL is the full URL the sender called, as the public sees it.
	URL    string
	Header http.Header
	Body   []byte
	// Config is the JSON configuration of the integration or connection.
	// It holds secrets: never log it.
	Config     json.RawMessage
	ReceivedAt time.Time
	// AllowPrivate says the plugin may call providers on private and
	// loopback addresses (the hub's --allow-private-targets); see ProviderClient.
	AllowPrivate bool
}

// Contact is the sender of an inbound message.
type Contact struct {
	ExternalID string
	Name       string
	Email      string
	Phone      string
}

// Events an inbound message may carry.
const (
	EventMessage = "MESSAGE"
	EventEnd     = "END"
)

// InboundMessage is a message normalised by a plugin.
type InboundMessage struct {
	// ExternalID is the sender's id for the message; the hub drops repeats.
	ExternalID string
	// ThreadExternalID groups messages into one conversation.
	ThreadExternalID string
	From             Contact
	Content          string
	// ContentType is "text" or "html".
	ContentType string
	// Subject is used for the first message of a thread only.
	Subject string
	SentAt  time.Time
	// Event is EventMessage (the default) or EventEnd.
	Event        string
	MediaURL     string
	MediaCaption string
	// Sender is the hub-side number or code the message reached.
	Sender string
}

// HTTPReply is what the hub answers the provider, when a plugin wants to
// choose it (a verification handshake, an XML acknowledgement).
type HTTPReply struct {
	Status      int
	ContentType string
	Body        []byte
}

// Statuses of an outbound message, as a provider reports them.
const (
	StatusQueued    = "queued"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// StatusUpdate is a provider's report on a message the plugin sent.
type StatusUpdate struct {
	// ExternalID is the provider's id of the message, as Send returned it.
	ExternalID string
	// Status is StatusQueued, StatusSent, StatusDelivered or StatusFailed.
	Status string
	// Error is the provider's reason when the message failed.
	Error string
	At    time.Time
}

// InboundResult is the outcome of handling one inbound request.
type InboundResult struct {
	Messages []InboundMessage
	// Statuses are reports on outbound messages (delivery receipts).
	Statuses []StatusUpdate
	Reply    *HTTPReply
}

// SendRequest is one outbound message.
type SendRequest struct {
	// Config is the JSON configuration of the connection. It holds secrets.
	Config           json.RawMessage
	To               string
	From             string
	Content          string
	ContentType      string
	MediaURL         string
	ThreadExternalID string
	// MessageID is the hub's id of the message, the same on every retry.
	MessageID string
	// CallbackURL is where the provider should report the message's status:
	// the connection's inbound URL.
	CallbackURL string
	// AllowPrivate: see InboundRequest.AllowPrivate.
	AllowPrivate bool
}

// SendResult is the provider's answer to a send.
type SendResult struct {
	ExternalID string
}

// Channel is implemented by every channel plugin.
//
// HandleInbound returns a *RejectError (see Reject, InvalidField) to refuse a
// request for a reason the sender caused; any other error means the plugin
// itself failed. Send returns a *ProviderError when the provider refused or
// failed: a retryable one is sent again later, along the hub's retry
// schedule; any other fails the message with the provider's reason.
//
// A Channel may also implement ConfigChecker and Activator; the hub learns
// which when it starts the plugin.
type Channel interface {
	Info() Info
	HandleInbound(ctx context.Context, req *InboundRequest) (*InboundResult, error)
	Send(ctx context.Context, req *SendRequest) (*SendResult, error)
}

// ConfigChecker is implemented by a channel that checks settings beyond
// what its ConfigSchema can say: a token's shape, two settings that must
// agree. The hub calls CheckConfig after the schema, when an admin saves an
// integration's config or a connection's provider settings, and refuses
// the save with its error. Return BadSetting or BadConfig; do not call the
// provider here (see Activator).
type ConfigChecker interface {
	CheckConfig(ctx context.Context, config json.RawMessage) error
}

// ActivateRequest asks a plugin to prepare its provider for a connection.
type ActivateRequest struct {
	ConnectionID string
	// Config is the connection's provider settings. It holds secrets.
	Config json.RawMessage
	// InboundURL is where the provider should send the connection's
	// traffic: the URL to register as the provider's webhook.
	InboundURL string
	// AllowPrivate: see InboundRequest.AllowPrivate.
	AllowPrivate bool
}

// Activator is implemented by a channel that prepares the provider when an
// integration starts using a connection: it checks that the credentials
// work and registers InboundURL as the provider's webhook. An error keeps
// that connection inactive, with the error as its reason, while the
// integration's other connections activate: return BadSetting or BadConfig
// when the provider refused the settings, a *ProviderError when it failed
// or could not be reached. The hub calls Activate again when an integration
// is started again, and may call it for a connection that another rule
// then keeps inactive, so it must be safe to repeat.
type Activator interface {
	Activate(ctx context.Context, req *ActivateRequest) error
}
