// Command futureplugin is a plugin of a protocol version the hub does not know yet:
// the hub must refuse it, naming both versions.
package main

import (
	"context"

	"github.com/hashicorp/go-plugin"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

type legacy struct{}

func (legacy) Info() sdk.Info { return sdk.Info{Kind: "future", Version: "0.9.0"} }

func (legacy) HandleInbound(context.Context, *sdk.InboundRequest) (*sdk.InboundResult, error) {
	return &sdk.InboundResult{Messages: []sdk.InboundMessage{{ExternalID: "old-1", ThreadExternalID: "t", Content: "from protocol 1"}}}, nil
}

func (legacy) Send(context.Context, *sdk.SendRequest) (*sdk.SendResult, error) {
	return &sdk.SendResult{}, nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{9: {sdk.PluginName: &sdk.ChannelPlugin{Impl: legacy{}}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
