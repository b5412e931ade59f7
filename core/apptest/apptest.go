// Package apptest starts real hubs for tests: the real HTTP server on a
// loopback port, the real plugin binaries, a real database of each kind.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/pluginhost"
	"github.com/switchboardhq/switchboard/scripts"
)

var pluginDir string

// Main builds the plugin binaries once for a test binary, runs the tests and
// removes them. Call it from TestMain.
func Main(m *testing.M) {
	scripts.RunnerMain() // hubs started by tests run transforms in this binary
	dir, err := os.MkdirTemp("", "switchboard-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "apptest:", err)
		os.Exit(1)
	}
	if err := BuildPlugins(dir); err != nil {
		fmt.Fprintln(os.Stderr, "apptest:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	pluginDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// BuildPlugins compiles every plugin under plugins/ into dir.
func BuildPlugins(dir string) error {
	root := repoRoot()
	mains, err := filepath.Glob(filepath.Join(root, "plugins", "*", "main.go"))
	if err != nil {
		return err
	}
	for _, m := range mains {
		name := filepath.Base(filepath.Dir(m))
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./plugins/"+name)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build plugin %s: %v\n%s", name, err, out)
		}
		// The hub starts only plugins that match their manifest.
		if _, err := pluginhost.WriteManifest(context.Background(), filepath.Join(dir, name), slog.New(slog.DiscardHandler)); err != nil {
			return fmt.Errorf("manifest of plugin %s: %w", name, err)
		}
	}
	return nil
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Hub is a running hub with an admin token for one workspace.
type Hub struct {
	t     testing.TB
	App   *core.App
	URL   string
	Token string

	shutdownOnce sync.Once
	shutdownErr  error
}

// Shutdown stops the hub, once: the test's end does it too.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.shutdownOnce.Do(func() { h.shutdownErr = h.App.Shutdown(ctx) })
	return h.shutdownErr
}

// Option changes a hub's configuration before it starts.
type Option func(*config.Config)

// WithRetrySchedule sets the delivery retry schedule.
func WithRetrySchedule(d ...time.Duration) Option {
	return func(c *config.Config) { c.RetrySchedule = d }
}

// WithDisableAfter sets how long a target may fail before it is disabled.
func WithDisableAfter(d time.Duration) Option {
	return func(c *config.Config) { c.TargetDisableAfter = d }
}

// WithChatInactivityTimeout ends chats on connections idle this long.
func WithChatInactivityTimeout(d time.Duration) Option {
	return func(c *config.Config) { c.ChatInactivityTimeout = d }
}

// WithPublicURL sets --public-url.
func WithPublicURL(u string) Option {
	return func(c *config.Config) { c.PublicURL = u }
}

// WithoutPrivateTargets leaves --allow-private-targets off.
func WithoutPrivateTargets() Option {
	return func(c *config.Config) { c.AllowPrivateTargets = false }
}

// WithLiveStreams bounds the live streams open at once, in all and per integration.
func WithLiveStreams(total, perIntegration int) Option {
	return func(c *config.Config) { c.LiveMaxStreams, c.LiveMaxStreamsPerIntegration = total, perIntegration }
}

// WithPluginDir runs the hub's plugins from dir, for tests that change them.
func WithPluginDir(dir string) Option {
	return func(c *config.Config) { c.PluginDir = dir }
}

// CopyPlugins copies the built plugins into a directory of the test's own.
func CopyPlugins(t testing.TB) string {
	t.Helper()
	entries, err := os.ReadDir(pluginDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(pluginDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Start runs a hub on databaseURL, stopped when the test ends.
func Start(t testing.TB, databaseURL string, opts ...Option) *Hub {
	t.Helper()
	if pluginDir == "" {
		t.Fatal("apptest: call apptest.Main from TestMain")
	}
	cfg := &config.Config{
		Addr:                "127.0.0.1:0",
		DatabaseURL:         databaseURL,
		PluginDir:           pluginDir,
		AllowPrivateTargets: true,
		RetrySchedule:       []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond},
		LogFormat:           "text",
		ShutdownTimeout:     10 * time.Second,
		MaxBodyBytes:        64 << 10,
		DeliveryConcurrency: 16,
		DeliveryTimeout:     5 * time.Second,

		DeliveryTargetConcurrency: 16,
		TargetDisableAfter:        time.Hour,
		TransformTimeout:          100 * time.Millisecond,
		TransformMemoryMB:         128,
		TransformRunners:          2,
	}
	for _, o := range opts {
		o(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := core.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("apptest: new hub: %v", err)
	}
	if err := app.Start(); err != nil {
		t.Fatalf("apptest: start hub: %v", err)
	}
	h := &Hub{t: t, App: app, URL: "http://" + app.Addr()}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("apptest: shutdown: %v", err)
		}
	})
	h.Token = h.NewAdminToken("test")
	return h
}

// NewAdminToken creates a workspace (if needed) and an admin token for it.
func (h *Hub) NewAdminToken(workspace string) string {
	h.t.Helper()
	ctx := context.Background()
	ws, err := h.App.Store.EnsureWorkspace(ctx, workspace)
	if err != nil {
		h.t.Fatal(err)
	}
	token, hash := auth.NewSecret(auth.PrefixAdminToken)
	if err := h.App.Store.CreateAdminToken(ctx, ws.ID, "test", hash); err != nil {
		h.t.Fatal(err)
	}
	return token
}

// Response is a decoded HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Do sends a request with the given headers and body (a string, []byte, or a
// value to encode as JSON).
func (h *Hub) Do(method, path string, headers map[string]string, body any) *Response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// Admin sends an admin API request with the hub's token.
func (h *Hub) Admin(method, path string, body any) *Response {
	h.t.Helper()
	return h.AdminAs(h.Token, method, path, body)
}

// AdminAs sends an admin API request with another token.
func (h *Hub) AdminAs(token, method, path string, body any) *Response {
	h.t.Helper()
	return h.Do(method, path, map[string]string{"Authorization": "Bearer " + token}, body)
}

// Integration is what creating one returns.
type Integration struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	InboundURL    string `json:"inboundUrl"`
	APIKey        string `json:"apiKey"`
	ResponseToken string `json:"responseToken"`
}

// CreateIntegration creates an integration and fails the test unless it is 201.
func (h *Hub) CreateIntegration(body map[string]any) Integration {
	h.t.Helper()
	r := h.Admin("POST", "/api/integrations", body)
	if r.Status != http.StatusCreated {
		h.t.Fatalf("create integration: %d %s", r.Status, r.Body)
	}
	var in Integration
	r.JSON(h.t, &in)
	return in
}

// PostCustom posts a body to an integration's custom webhook with a key.
func (h *Hub) PostCustom(id, key string, body any) *Response {
	h.t.Helper()
	return h.Do("POST", "/api/webhooks/custom/"+id, map[string]string{"X-Api-Key": key}, body)
}

// Eventually retries fn until it returns nil or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
