// Package plugintest lets a plugin author test a Channel through the real
// gRPC adapters, in process, without building the plugin binary.
package plugintest

import (
	"context"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchboardhq/switchboard/plugins/host"
	"github.com/switchboardhq/switchboard/plugins/internal/wire"
	"github.com/switchboardhq/switchboard/plugins/proto"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Connect serves ch over go-plugin's gRPC on a local socket and returns the
// channel as the hub sees it: every call crosses the same adapters and wire
// format as in a running hub. Everything is closed when the test ends.
func Connect(t testing.TB, ch sdk.Channel) sdk.Channel {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		proto.PluginName: &loopback{ch: ch},
	})
	t.Cleanup(func() {
		// Stop the server first: closing the client asks the server to
		// stop too, and two stops at once race inside go-plugin.
		server.Stop()
		client.Close()
	})
	c, err := host.Dispense(client)
	if err != nil {
		t.Fatalf("plugintest: dispense: %v", err)
	}
	if _, _, err := c.Describe(t.Context()); err != nil {
		t.Fatalf("plugintest: describe: %v", err)
	}
	return c
}

// loopback is both sides of the plugin in one process.
type loopback struct {
	plugin.NetRPCUnsupportedPlugin
	ch sdk.Channel
}

func (l *loopback) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterChannelServer(s, wire.NewChannelServer(l.ch))
	return nil
}

func (l *loopback) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return host.NewClient(c), nil
}
