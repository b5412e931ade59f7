package sdk

import (
	"context"
	"os"
	"runtime"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchboardhq/switchboard/plugins/proto"
)

// Handshake is shared by the hub and every plugin. Never change it: a change
// makes every plugin built before it refuse to start.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "SWITCHBOARD_PLUGIN",
	MagicCookieValue: "7c1f4e0a-channel",
}

// PluginName is the name under which a plugin registers its channel.
const PluginName = "channel"

// VersionedPlugins is what a plugin offers: this SDK's protocol version.
func VersionedPlugins(ch Channel) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &ChannelPlugin{Impl: ch}},
	}
}

// HostVersionedPlugins is what the hub offers: every supported protocol
// version; go-plugin picks the highest both sides know. The versions share
// one gRPC service whose messages only ever gained fields, so one client
// speaks them all.
func HostVersionedPlugins() map[int]plugin.PluginSet {
	out := make(map[int]plugin.PluginSet, len(SupportedProtocols))
	for _, v := range SupportedProtocols {
		out[v] = plugin.PluginSet{PluginName: &ChannelPlugin{}}
	}
	return out
}

// ChannelPlugin adapts a Channel to go-plugin. The hub uses it with a nil
// Impl to obtain a client.
type ChannelPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Channel
}

var _ plugin.GRPCPlugin = (*ChannelPlugin)(nil)

// GRPCServer registers the plugin's channel on the gRPC server.
func (p *ChannelPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterChannelServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a *Client, a Channel backed by the plugin process.
func (p *ChannelPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{rpc: proto.NewChannelClient(c)}, nil
}

// newGRPCServer serves calls from a fixed pool of goroutines rather than one
// new goroutine per call, which shortens each round trip.
func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, grpc.NumStreamWorkers(uint32(max(2, runtime.GOMAXPROCS(0)))))...)
}

// Serve runs the plugin until the hub stops it. Call it from main.
func Serve(ch Channel) {
	exitWithParent()
	info := ch.Info()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(ch),
		GRPCServer:       newGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "plugin." + info.Kind,
			Output:     os.Stderr,
			Level:      hclog.Info,
			JSONFormat: true,
		}),
	})
}
