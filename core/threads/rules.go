package threads

import (
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Kinds is what threading needs to know of the installed plugins.
type Kinds interface {
	Info(kind string) (sdk.Info, bool)
	ByChannel(channel string) (sdk.Info, bool)
}

// Rules are the threading rules that depend on what a kind declared: which
// conversations are chats, and when a chat's reply window is open. Kinds
// come from plugins, so no kind is named here.
type Rules struct {
	kinds Kinds
}

// NewRules returns the rules for the installed kinds.
func NewRules(k Kinds) *Rules { return &Rules{kinds: k} }

// Route is how a conversation's events travel. A conversation that came in
// through a connection is a chat on the connection's channel; otherwise it
// is a chat when its integration's kind sends replies itself (the widget),
// and an app's thread when replies go to the integration's target.
func (r *Rules) Route(in domain.Integration, conv domain.Conversation) domain.Route {
	if conv.ConnectionID != "" {
		return domain.Route{Channel: conv.Channel, Chat: true}
	}
	info, ok := r.kinds.Info(in.Kind)
	return domain.Route{Channel: in.Kind, Chat: ok && info.Sends}
}

// InboundRoute is the route of traffic of a kind; on a connection, of its channel.
func (r *Rules) InboundRoute(kind string, conn *domain.Connection) domain.Route {
	if conn != nil {
		return domain.Route{Channel: conn.Channel, Chat: true}
	}
	info, ok := r.kinds.Info(kind)
	return domain.Route{Channel: kind, Chat: ok && info.Sends}
}

// ReplyWindow returns how long after a contact's last message a channel
// accepts a free-form reply; 0 means always.
func (r *Rules) ReplyWindow(channel string) time.Duration {
	info, ok := r.kinds.ByChannel(channel)
	if !ok {
		return 0
	}
	return info.ReplyWindow
}

// WindowOpen reports whether a reply on channel may go out in the chat at
// now: always on a channel without a window, else only within the window
// after the contact's last message.
func (r *Rules) WindowOpen(channel string, conv domain.Conversation, now time.Time) bool {
	w := r.ReplyWindow(channel)
	if w <= 0 {
		return true
	}
	return conv.LastInboundAt != nil && now.Sub(*conv.LastInboundAt) < w
}
