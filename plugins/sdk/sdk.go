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
// The hub negotiates it with go-plugin's VersionedPlugins.
const ProtocolVersion = 1

// Info describes a plugin to the hub.
type Info struct {
	// Kind is the integration kind the plugin handles, e.g. "custom" or "sms".
	// It names the inbound path /api/webhooks/{kind}/{id}.
	Kind string
	// Version is the plugin's own version, for logs and the admin API.
	Version string
	// DisplayName is shown to admins.
	DisplayName string
	// ConfigSchema is a JSON Schema document for the plugin's configuration,
	// or empty when the plugin takes none.
	ConfigSchema string
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

// InboundResult is the outcome of handling one inbound request.
type InboundResult struct {
	Messages []InboundMessage
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
// failed.
type Channel interface {
	Info() Info
	HandleInbound(ctx context.Context, req *InboundRequest) (*InboundResult, error)
	Send(ctx context.Context, req *SendRequest) (*SendResult, error)
}
