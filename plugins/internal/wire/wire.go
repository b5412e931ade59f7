// Package wire holds what the two sides of the plugin protocol share and a
// plugin author never sees: go-plugin's handshake and the adapter that
// serves a channel over gRPC. Package sdk serves plugins with it, package
// host starts and calls them.
package wire

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchboardhq/switchboard/plugins/proto"
)

// Handshake is go-plugin's handshake for every Switchboard plugin. Its
// ProtocolVersion is only go-plugin's fallback: the versions are
// negotiated through VersionedPlugins on both sides.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   proto.MagicCookieKey,
	MagicCookieValue: proto.MagicCookieValue,
}

// NewChannelServer adapts an sdk.Channel to the gRPC service. Package sdk
// sets it when it is initialised; it takes any because package sdk imports
// this one.
var NewChannelServer func(channel any) proto.ChannelServer

// ServerPlugin serves a channel on go-plugin's gRPC server.
type ServerPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Channel proto.ChannelServer
}

var _ plugin.GRPCPlugin = (*ServerPlugin)(nil)

// GRPCServer registers the channel.
func (p *ServerPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterChannelServer(s, p.Channel)
	return nil
}

// GRPCClient is never called in a plugin process.
func (p *ServerPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("wire: a plugin has no client side")
}
