package host

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchboardhq/switchboard/plugins/internal/wire"
	"github.com/switchboardhq/switchboard/plugins/proto"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// echo accepts bodies starting with "ok", rejects "bad", and fails otherwise.
type echo struct{}

func (echo) Info() sdk.Info { return sdk.Info{Kind: "echo", Version: "1"} }
func (echo) HandleInbound(_ context.Context, r *sdk.InboundRequest) (*sdk.InboundResult, error) {
	switch {
	case strings.HasPrefix(string(r.Body), "ok"):
		return &sdk.InboundResult{Messages: []sdk.InboundMessage{{ExternalID: string(r.Body)}}}, nil
	case string(r.Body) == "bad":
		return nil, sdk.InvalidField("body", "body is bad")
	}
	return nil, errors.New("plugin bug")
}
func (echo) Send(context.Context, *sdk.SendRequest) (*sdk.SendResult, error) {
	return &sdk.SendResult{}, nil
}

// legacyServer is a plugin built before HandleInboundBatch existed.
type legacyServer struct {
	proto.UnimplementedChannelServer
	inner proto.ChannelServer
}

func (l legacyServer) HandleInbound(ctx context.Context, in *proto.InboundRequest) (*proto.InboundResponse, error) {
	return l.inner.HandleInbound(ctx, in)
}

func dial(t *testing.T, register func(*grpc.Server)) *Client {
	conn, server := plugin.TestGRPCConn(t, register)
	t.Cleanup(func() { conn.Close(); server.Stop() })
	return &Client{rpc: proto.NewChannelClient(conn)}
}

func TestHandleInboundBatch(t *testing.T) {
	reqs := []*sdk.InboundRequest{{Body: []byte("ok-1")}, {Body: []byte("bad")}, {Body: []byte("boom")}, {Body: []byte("ok-2")}}
	for name, register := range map[string]func(*grpc.Server){
		"batch": func(s *grpc.Server) { proto.RegisterChannelServer(s, wire.NewChannelServer(echo{})) },
		"legacy fallback": func(s *grpc.Server) {
			proto.RegisterChannelServer(s, legacyServer{inner: wire.NewChannelServer(echo{})})
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := dial(t, register)
			for round := range 2 { // the fallback is remembered after the first call
				out := c.HandleInboundBatch(context.Background(), reqs)
				if len(out) != 4 {
					t.Fatalf("round %d: %d outcomes", round, len(out))
				}
				if out[0].Err != nil || out[0].Result.Messages[0].ExternalID != "ok-1" || out[3].Result.Messages[0].ExternalID != "ok-2" {
					t.Errorf("round %d: accepted ones = %+v, %+v", round, out[0], out[3])
				}
				var rej *sdk.RejectError
				if !errors.As(out[1].Err, &rej) || rej.Field != "body" {
					t.Errorf("round %d: rejection = %v", round, out[1].Err)
				}
				if out[2].Err == nil || errors.As(out[2].Err, &rej) || !strings.Contains(out[2].Err.Error(), "plugin bug") {
					t.Errorf("round %d: failure = %v", round, out[2].Err)
				}
			}
			if name == "legacy fallback" && !c.noBatch.Load() {
				t.Error("the client did not remember that the plugin has no batch call")
			}
		})
	}
}

func TestHandleInboundBatchUnreachable(t *testing.T) {
	c := dial(t, func(s *grpc.Server) { proto.RegisterChannelServer(s, wire.NewChannelServer(echo{})) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, o := range c.HandleInboundBatch(ctx, []*sdk.InboundRequest{{Body: []byte("ok")}, {Body: []byte("ok")}}) {
		if !errors.Is(o.Err, ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable for every request", o.Err)
		}
	}
}
