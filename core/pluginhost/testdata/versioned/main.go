// Command versioned is a plugin that serves one protocol version, set at
// build time (-ldflags "-X main.protocol=N -X main.kind=K"): version 1 is a
// plugin as an SDK of that version served it, which the hub must keep
// running; a version the hub does not know must be refused, naming both.
package main

import (
	"context"
	"strconv"

	"github.com/hashicorp/go-plugin"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

var (
	protocol = "1"
	kind     = "legacy"
)

type channel struct{}

func (channel) Info() sdk.Info { return sdk.Info{Kind: kind, Version: "0.9.0"} }

func (channel) HandleInbound(context.Context, *sdk.InboundRequest) (*sdk.InboundResult, error) {
	return &sdk.InboundResult{Messages: []sdk.InboundMessage{{ExternalID: "old-1", ThreadExternalID: "t", Content: "from protocol " + protocol}}}, nil
}

func (channel) Send(context.Context, *sdk.SendRequest) (*sdk.SendResult, error) {
	return &sdk.SendResult{}, nil
}

func main() {
	v, err := strconv.Atoi(protocol)
	if err != nil {
		panic(err)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{v: {sdk.PluginName: &sdk.ChannelPlugin{Impl: channel{}}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
