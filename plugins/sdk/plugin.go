package sdk

import (
	"os"
	"runtime"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchboardhq/switchboard/plugins/internal/wire"
	"github.com/switchboardhq/switchboard/plugins/proto"
)

func init() {
	wire.NewChannelServer = func(ch any) proto.ChannelServer { return &grpcServer{impl: ch.(Channel)} }
}

// newGRPCServer serves calls from a fixed pool of goroutines rather than one
// new goroutine per call, which shortens each round trip.
func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, grpc.NumStreamWorkers(uint32(max(2, runtime.GOMAXPROCS(0)))))...)
}

// Serve runs the plugin until the hub stops it, or exits when the hub dies.
// Call it from main.
func Serve(ch Channel) {
	exitWithParent()
	info := ch.Info()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: wire.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			ProtocolVersion: {proto.PluginName: &wire.ServerPlugin{Channel: &grpcServer{impl: ch}}},
		},
		GRPCServer: newGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "plugin." + info.Kind,
			Output:     os.Stderr,
			Level:      hclog.Info,
			JSONFormat: true,
		}),
	})
}
