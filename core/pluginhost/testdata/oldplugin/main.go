// Command oldplugin is a plugin as an SDK of protocol version 1 served it:
// the hub must keep running it.
package main

import (
	"context"

	"github.com/hashicorp/go-plugin"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

type legacy struct{}

func (legacy) Info() sdk.Info { return sdk.Info{Kind: "legacy", Version: "0.9.0"} }

func (legacy) HandleInbound(context.Context, *sdk.InboundRequest) (*sdk.InboundResult, error) {
	return &sdk.InboundResult{Messages: []sdk.InboundMessage{{ExternalID: "old-1", ThreadExternalID: "t", Content: "from protocol 1"}}}, nil
}

func (legacy) Send(context.Context, *sdk.SendRequest) (*sdk.SendResult, error) {
	return &sdk.SendResult{}, nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{1: {sdk.PluginName: &sdk.ChannelPlugin{Impl: legacy{}}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
