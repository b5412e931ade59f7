package pluginhost_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/pluginhost"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

var pluginDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-pluginhost-")
	if err != nil {
		panic(err)
	}
	if err := apptest.BuildPlugins(dir); err != nil {
		panic(err)
	}
	pluginDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func startHost(t testing.TB) *pluginhost.Host {
	t.Helper()
	h := pluginhost.New(pluginDir, slog.New(slog.DiscardHandler))
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.StopAll)
	return h
}

var seed = []byte(`{"messageId":"m1","conversationId":"c1","from":{"externalId":"u1"},"content":"hi"}`)

func TestStartDescribeAndCall(t *testing.T) {
	h := startHost(t)
	ps := h.Plugins()
	// Plugins are sorted by kind: custom comes first, whatever other
	// channels are built beside it.
	if len(ps) == 0 || ps[0].Kind != "custom" || !ps[0].Running || ps[0].PID == 0 {
		t.Fatalf("plugins = %+v", ps)
	}
	if err := h.Ready(); err != nil {
		t.Fatal(err)
	}
	ch, err := h.Channel("custom")
	if err != nil {
		t.Fatal(err)
	}
	res, err := ch.HandleInbound(context.Background(), &sdk.InboundRequest{Body: seed, ReceivedAt: time.Now()})
	if err != nil || len(res.Messages) != 1 || res.Messages[0].ExternalID != "m1" {
		t.Fatalf("HandleInbound = %+v, %v", res, err)
	}
	if _, err := h.Channel("telegraph"); !errors.Is(err, pluginhost.ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestRestartAfterKill(t *testing.T) {
	h := startHost(t)
	var restarts atomic.Int32
	h.OnStart(func(kind string) {
		if kind == "custom" {
			restarts.Add(1)
		}
	})
	pid := h.Plugins()[0].PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 10*time.Second, func() error {
		p := h.Plugins()[0]
		if !p.Running || p.PID == pid || restarts.Load() != 1 {
			return errors.New("not restarted yet")
		}
		return nil
	})
	ch, err := h.Channel("custom")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.HandleInbound(context.Background(), &sdk.InboundRequest{Body: seed}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestStopAllLeavesNoProcess(t *testing.T) {
	h := pluginhost.New(pluginDir, slog.New(slog.DiscardHandler))
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	pid := h.Plugins()[0].PID
	h.StopAll()
	apptest.Eventually(t, 5*time.Second, func() error {
		if syscall.Kill(pid, 0) == nil {
			return errors.New("plugin process still there")
		}
		return nil
	})
	if _, err := h.Channel("custom"); !errors.Is(err, pluginhost.ErrUnavailable) {
		t.Errorf("channel after stop: %v", err)
	}
}

func TestMissingDirectory(t *testing.T) {
	h := pluginhost.New(filepath.Join(t.TempDir(), "nope"), slog.New(slog.DiscardHandler))
	if err := h.Start(context.Background()); err == nil {
		t.Error("a missing plugin directory was accepted")
	}
}

// BenchmarkRoundTrip is one HandleInbound call to the real custom plugin
// process: gRPC over its unix socket, JSON validation in the plugin.
func BenchmarkRoundTrip(b *testing.B) {
	h := startHost(b)
	ch, err := h.Channel("custom")
	if err != nil {
		b.Fatal(err)
	}
	req := &sdk.InboundRequest{Body: seed, ReceivedAt: time.Now()}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ch.HandleInbound(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTripParallel is the same with many callers, as under load.
func BenchmarkRoundTripParallel(b *testing.B) {
	h := startHost(b)
	ch, err := h.Channel("custom")
	if err != nil {
		b.Fatal(err)
	}
	req := &sdk.InboundRequest{Body: seed, ReceivedAt: time.Now()}
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ch.HandleInbound(context.Background(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRoundTripBatch16 is one HandleInboundBatch call carrying 16
// requests; ns/op is per request.
func BenchmarkRoundTripBatch16(b *testing.B) {
	h := startHost(b)
	ch, err := h.Channel("custom")
	if err != nil {
		b.Fatal(err)
	}
	reqs := make([]*sdk.InboundRequest, 16)
	for i := range reqs {
		reqs[i] = &sdk.InboundRequest{Body: seed, ReceivedAt: time.Now()}
	}
	client := ch.(*sdk.Client)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i += len(reqs) {
		for _, o := range client.HandleInboundBatch(ctx, reqs) {
			if o.Err != nil {
				b.Fatal(o.Err)
			}
		}
	}
}
