// Command versioned is a plugin that serves one protocol version, set at
// build time (-ldflags "-X main.protocol=N -X main.kind=K"). It speaks the
// wire protocol directly, as a plugin built with another SDK release would:
// version 1 is a plugin from before version 2, which the hub must keep
// running; a version the hub does not know must be refused, naming both.
package main

import (
	"context"
	"errors"
	"strconv"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchboardhq/switchboard/plugins/proto"
)

var (
	protocol = "1"
	kind     = "legacy"
)

type server struct {
	proto.UnimplementedChannelServer
	version int
}

func (s server) Describe(context.Context, *proto.DescribeRequest) (*proto.DescribeResponse, error) {
	return &proto.DescribeResponse{Kind: kind, Version: "0.9.0", ProtocolVersion: int32(s.version)}, nil
}

func (server) HandleInbound(context.Context, *proto.InboundRequest) (*proto.InboundResponse, error) {
	return &proto.InboundResponse{Messages: []*proto.InboundMessage{
		{ExternalId: "old-1", ThreadExternalId: "t", Content: "from protocol " + protocol},
	}}, nil
}

type channelPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv server
}

func (p *channelPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterChannelServer(s, p.srv)
	return nil
}

func (p *channelPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("plugin side only")
}

func main() {
	v, err := strconv.Atoi(protocol)
	if err != nil {
		panic(err)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   proto.MagicCookieKey,
			MagicCookieValue: proto.MagicCookieValue,
		},
		VersionedPlugins: map[int]plugin.PluginSet{v: {proto.PluginName: &channelPlugin{srv: server{version: v}}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
