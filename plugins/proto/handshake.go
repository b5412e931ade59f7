package proto

// The handshake the hub and every plugin share, whatever their protocol
// version. Never change these values: a change makes every plugin built
// before it refuse to start.
const (
	MagicCookieKey   = "SWITCHBOARD_PLUGIN"
	MagicCookieValue = "7c1f4e0a-channel"
	// PluginName is the name under which a plugin registers its channel.
	PluginName = "channel"
)
