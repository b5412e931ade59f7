// Package plugintest lets a plugin author test a Channel through the real
// gRPC adapters, in process, without building the plugin binary.
package plugintest

import (
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Connect serves ch over an in-memory gRPC connection and returns the client
// the hub would use. Everything is closed when the test ends.
func Connect(t testing.TB, ch sdk.Channel) *sdk.Client {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		sdk.PluginName: &sdk.ChannelPlugin{Impl: ch},
	})
	t.Cleanup(func() {
		// The server first: closing the client first asks the server to
		// stop itself, which would race with stopping it here.
		server.Stop()
		client.Close()
	})
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("plugintest: dispense: %v", err)
	}
	c := raw.(*sdk.Client)
	if _, _, err := c.Describe(t.Context()); err != nil {
		t.Fatalf("plugintest: describe: %v", err)
	}
	return c
}
