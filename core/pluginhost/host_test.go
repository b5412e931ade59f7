package pluginhost_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/pluginhost"
	"github.com/switchboardhq/switchboard/plugins/host"
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
	var custom *pluginhost.Plugin
	for i := range ps {
		if ps[i].Kind == "custom" {
			custom = &ps[i]
		}
	}
	if custom == nil || !custom.Running || custom.PID == 0 {
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
	b.ResetTimer() // starting the plugin process is not a round trip
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
	client := ch.(*host.Client)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer() // starting the plugin process is not a round trip
	for i := 0; i < b.N; i += len(reqs) {
		for _, o := range client.HandleInboundBatch(ctx, reqs) {
			if o.Err != nil {
				b.Fatal(o.Err)
			}
		}
	}
}

// TestDeclarations: what each plugin declared is known without a call, the
// connection channels map to their kinds, and configuration is checked
// against each plugin's schema, naming the field without its value.
func TestDeclarations(t *testing.T) {
	h := startHost(t)
	custom, ok := h.Info("custom")
	if !ok || custom.Channel != "" || custom.AuthMode() != sdk.AuthAPIKey || custom.Sends {
		t.Errorf("custom declares %+v", custom)
	}
	sms, ok := h.ByChannel("SMS")
	if !ok || sms.Kind != "sms" || sms.AuthMode() != sdk.AuthSignature || !sms.Sends {
		t.Errorf("SMS channel: %+v, %v", sms, ok)
	}
	if _, ok := h.ByChannel("PIGEON"); ok {
		t.Errorf("a channel no plugin serves was found")
	}
	for _, tc := range []struct {
		name, kind, cfg, field string
	}{
		{"custom takes nothing", "custom", `{}`, ""},
		{"custom refuses unknown settings", "custom", `{"x":1}`, "x"},
		{"sms valid", "sms", `{"accountSid":"AC` + strings.Repeat("a", 32) + `","authToken":"t"}`, ""},
		{"sms missing token", "sms", `{"accountSid":"AC` + strings.Repeat("a", 32) + `"}`, "authToken"},
		{"sms bad sid", "sms", `{"accountSid":"s3cr3t-looking","authToken":"t"}`, "accountSid"},
		{"sms token a number", "sms", `{"accountSid":"AC` + strings.Repeat("a", 32) + `","authToken":5}`, "authToken"},
		{"not an object", "sms", `[1]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.ValidateConfig(t.Context(), tc.kind, []byte(tc.cfg))
			valid := tc.field == "" && tc.name != "not an object"
			if valid {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *pluginhost.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("err = %v, want a config error on %q", err, tc.field)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error repeats the value: %v", err)
			}
		})
	}
	if err := h.ValidateConfig(t.Context(), "telegraph", []byte(`{}`)); !errors.Is(err, pluginhost.ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
}

// captured collects the records a logger handled.
type captured struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *captured) Enabled(context.Context, slog.Level) bool { return true }
func (c *captured) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r.Clone())
	return nil
}
func (c *captured) WithAttrs(as []slog.Attr) slog.Handler { return &withAttrs{c: c, attrs: as} }
func (c *captured) WithGroup(string) slog.Handler         { return c }

type withAttrs struct {
	c     *captured
	attrs []slog.Attr
}

func (w *withAttrs) Enabled(context.Context, slog.Level) bool { return true }
func (w *withAttrs) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(w.attrs...)
	return w.c.Handle(ctx, r)
}
func (w *withAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return &withAttrs{c: w.c, attrs: append(append([]slog.Attr{}, w.attrs...), as...)}
}
func (w *withAttrs) WithGroup(string) slog.Handler { return w }

// TestPluginLogsReachTheHubsLog: what go-plugin says of a plugin (here,
// that it died) is logged through the hub's own logger, with the
// plugin's name, not written to stderr beside it.
func TestPluginLogsReachTheHubsLog(t *testing.T) {
	c := &captured{}
	h := pluginhost.New(pluginDir, slog.New(c))
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.StopAll)
	var pid int
	for _, p := range h.Plugins() {
		if p.Kind == "custom" {
			pid = p.PID
		}
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 10*time.Second, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, r := range c.recs {
			plugin := ""
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == "plugin" {
					plugin = a.Value.String()
				}
				return true
			})
			if plugin == "custom" && strings.Contains(r.Message, "exited") {
				return nil
			}
		}
		return fmt.Errorf("no record of the plugin's exit with its name among %d", len(c.recs))
	})
}

// TestHungPluginIsCutOffAndReported: a plugin that never answers the
// handshake is cut off at the deadline, alone: the others start beside it,
// and readiness names it.
func TestHungPluginIsCutOffAndReported(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(pluginDir, "custom"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "custom"), src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(filepath.Join(pluginDir, "custom"+pluginhost.ManifestSuffix), filepath.Join(dir, "custom"+pluginhost.ManifestSuffix)); err != nil {
		t.Fatal(err)
	}
	// One hangs itself; the other leaves a child holding its output open.
	// Both are vouched for by manifests: they are started, and hang.
	for name, script := range map[string]string{"hang-1": "#!/bin/sh\nexec sleep 60\n", "hang-2": "#!/bin/sh\nsleep 60\n"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		writeManifest(t, path, name)
	}
	h := pluginhost.New(dir, slog.New(slog.DiscardHandler))
	h.SetStartTimeout(time.Second)
	start := time.Now()
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.StopAll)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("start took %s with two hung plugins and a 1 s deadline: they were waited for one after another", took)
	}
	if _, err := h.Channel("custom"); err != nil {
		t.Errorf("the healthy plugin did not start: %v", err)
	}
	err = h.Ready()
	if err == nil || !strings.Contains(err.Error(), "hang-") {
		t.Errorf("Ready() = %v, want it to name a hung plugin", err)
	}
	failed := 0
	for _, p := range h.Plugins() {
		if p.Error != "" {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d plugins reported failed, want 2: %+v", failed, h.Plugins())
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// writeManifest vouches for an executable by hand.
func writeManifest(t *testing.T, path, kind string) {
	t.Helper()
	sum, err := pluginhost.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(pluginhost.Manifest{Kind: kind, Version: "0", Protocol: sdk.ProtocolVersion, SHA256: sum})
	if err := os.WriteFile(path+pluginhost.ManifestSuffix, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestManifestRefusals: a plugin without a manifest, with an altered
// executable, or declaring another kind than its manifest is never
// started; the others are, and readiness names the refused.
func TestManifestRefusals(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"custom", "sms", "whatsapp"} {
		if err := copyFile(filepath.Join(pluginDir, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(dir, name), 0o755)
	}
	if err := copyFile(filepath.Join(pluginDir, "custom"+pluginhost.ManifestSuffix), filepath.Join(dir, "custom"+pluginhost.ManifestSuffix)); err != nil {
		t.Fatal(err)
	}
	// sms: altered after its manifest was written.
	if err := copyFile(filepath.Join(pluginDir, "sms"+pluginhost.ManifestSuffix), filepath.Join(dir, "sms"+pluginhost.ManifestSuffix)); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(dir, "sms"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("tampered"))
	f.Close()
	// whatsapp: a manifest that names another kind.
	writeManifest(t, filepath.Join(dir, "whatsapp"), "telegram")
	// and an executable with no manifest at all.
	if err := os.WriteFile(filepath.Join(dir, "stray"), []byte("#!/bin/sh\ntouch "+filepath.Join(dir, "stray-ran")+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := pluginhost.New(dir, slog.New(slog.DiscardHandler))
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.StopAll)
	if _, err := h.Channel("custom"); err != nil {
		t.Errorf("custom matches its manifest and did not start: %v", err)
	}
	for _, kind := range []string{"sms", "whatsapp", "telegram"} {
		if _, err := h.Channel(kind); err == nil {
			t.Errorf("%s started against its manifest", kind)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "stray-ran")); err == nil {
		t.Errorf("an executable without a manifest was run")
	}
	errs := map[string]string{}
	for _, p := range h.Plugins() {
		if p.Error != "" {
			errs[filepath.Base(p.Path)] = p.Error
		}
	}
	for name, want := range map[string]string{"sms": "checksum", "whatsapp": "manifest says kind", "stray": "no manifest"} {
		if !strings.Contains(errs[name], want) {
			t.Errorf("%s: error %q, want it to say %q", name, errs[name], want)
		}
	}
	if err := h.Ready(); err == nil {
		t.Errorf("ready with refused plugins")
	}
}

// TestProtocolNegotiation: a plugin built against protocol version 1 keeps
// working with a hub that speaks later versions too; one of a version the hub does not
// speak is refused with a message naming both sides' versions.
func TestProtocolNegotiation(t *testing.T) {
	dir := t.TempDir()
	for name, flags := range map[string]string{"oldplugin": "-X main.protocol=1 -X main.kind=legacy", "futureplugin": "-X main.protocol=9 -X main.kind=future"} {
		cmd := exec.Command("go", "build", "-ldflags", flags, "-o", filepath.Join(dir, name), "./testdata/versioned")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
	if _, err := pluginhost.WriteManifest(context.Background(), filepath.Join(dir, "oldplugin"), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, filepath.Join(dir, "futureplugin"), "future")
	h := pluginhost.New(dir, slog.New(slog.DiscardHandler))
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.StopAll)
	ch, err := h.Channel("legacy")
	if err != nil {
		t.Fatalf("the protocol 1 plugin did not start: %v", err)
	}
	res, err := ch.HandleInbound(context.Background(), &sdk.InboundRequest{Body: []byte("{}")})
	if err != nil || len(res.Messages) != 1 || res.Messages[0].Content != "from protocol 1" {
		t.Fatalf("a call to the protocol 1 plugin: %+v, %v", res, err)
	}
	var legacy, future pluginhost.Plugin
	for _, p := range h.Plugins() {
		switch {
		case p.Kind == "legacy":
			legacy = p
		case strings.HasSuffix(p.Path, "futureplugin"):
			future = p
		}
	}
	if legacy.Protocol != 1 {
		t.Errorf("legacy plugin speaks protocol %d, want 1 agreed", legacy.Protocol)
	}
	hub := strings.Trim(strings.ReplaceAll(fmt.Sprint(host.SupportedProtocols), " ", ", "), "[]")
	if !strings.Contains(future.Error, "version 9") || !strings.Contains(future.Error, "versions "+hub) {
		t.Errorf("the protocol 9 plugin: error %q, want it to name version 9 and the hub's %s", future.Error, hub)
	}
}

// TestHostileChecks: a plugin's settings check and activation are cut off
// by their deadline however the plugin behaves, and what it says comes
// back one line, valid UTF-8 and bounded, whatever it sent.
func TestHostileChecks(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "checker")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/checker").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	writeManifest(t, bin, "checker")
	h := pluginhost.New(dir, slog.New(slog.DiscardHandler))
	h.SetCheckTimeout(300 * time.Millisecond)
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.StopAll)
	ctx := context.Background()
	activate := func(mode string) error {
		return h.Activate(ctx, "checker", &sdk.ActivateRequest{ConnectionID: "c1", Config: []byte(`{"mode":"` + mode + `"}`)})
	}
	safe := func(what, v string) {
		t.Helper()
		if len(v) > 1200 || !utf8.ValidString(v) || strings.ContainsAny(v, "\r\n\x00") {
			t.Errorf("%s is not safe to show: %d bytes, %q…", what, len(v), v[:min(len(v), 80)])
		}
	}

	if err := h.ValidateConfig(ctx, "checker", []byte(`{"mode":"ok"}`)); err != nil {
		t.Errorf("accepted settings: %v", err)
	}
	if err := activate("ok"); err != nil {
		t.Errorf("activation: %v", err)
	}
	var ce *pluginhost.ConfigError
	if err := h.ValidateConfig(ctx, "checker", []byte(`{"mode":"refuse"}`)); !errors.As(err, &ce) {
		t.Errorf("refused settings: %v, want a *ConfigError", err)
	} else {
		safe("the field", ce.Field)
		safe("the refusal", ce.Message)
	}
	var pe *sdk.ProviderError
	if err := activate("provider"); !errors.As(err, &pe) || pe.StatusCode != 503 {
		t.Errorf("a provider failure: %v", err)
	} else {
		safe("the provider's error", pe.Message)
	}
	for _, call := range map[string]func() error{
		"check":    func() error { return h.ValidateConfig(ctx, "checker", []byte(`{"mode":"hang"}`)) },
		"activate": func() error { return activate("hang") },
	} {
		if err := call(); !errors.Is(err, pluginhost.ErrUnavailable) {
			t.Errorf("a hung plugin: %v, want it cut off as unavailable", err)
		}
	}
	if err := activate("crash"); !errors.Is(err, pluginhost.ErrUnavailable) {
		t.Errorf("a plugin dying mid-call: %v", err)
	}
	// Restarted, it answers again.
	apptest.Eventually(t, 15*time.Second, func() error { return activate("ok") })
}
