// Package pluginhost runs the channel plugins: it starts every executable in
// the plugin directory, learns its kind, restarts it when it dies, and stops
// them all on shutdown.
package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/switchboardhq/switchboard/plugins/host"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Errors the host returns.
var (
	ErrUnknownKind = errors.New("no plugin handles this kind")
	ErrUnavailable = host.ErrUnavailable
)

// Plugin is what the host reports about one plugin.
type Plugin struct {
	Kind    string
	Version string
	Path    string
	PID     int
	Running bool
	// Protocol is the plugin protocol version agreed with the plugin.
	Protocol int
	// Restarts counts the times the process was started again after dying.
	Restarts int
	// Error says why a plugin found in the directory never started.
	Error string
}

// Host supervises the plugin processes.
type Host struct {
	dir string
	log *slog.Logger

	mu     sync.RWMutex
	procs  map[string]*proc // by kind
	failed []Plugin         // executables that never started
	// startTimeout bounds a plugin's start and handshake.
	startTimeout time.Duration
	// checkTimeout bounds a settings check or an activation.
	checkTimeout time.Duration
	onStart      []func(kind string)
	stopping     bool
	wg           sync.WaitGroup
	cancel       context.CancelFunc
}

type proc struct {
	kind     string
	path     string
	version  string
	protocol int
	info     sdk.Info
	schema   *Schema
	client   *plugin.Client
	channel  *host.Client
	pid      int
	running  bool
	restarts int
}

// DefaultStartTimeout bounds a plugin's start and handshake.
const DefaultStartTimeout = 10 * time.Second

// New makes a host for the plugins in dir. Call Start to run them.
func New(dir string, log *slog.Logger) *Host {
	return &Host{dir: dir, log: log, procs: map[string]*proc{}, startTimeout: DefaultStartTimeout,
		checkTimeout: CheckTimeout}
}

// SetStartTimeout changes how long a plugin may take to start and answer
// the handshake; call it before Start.
func (h *Host) SetStartTimeout(d time.Duration) {
	if d > 0 {
		h.startTimeout = d
	}
}

// SetCheckTimeout changes how long a plugin may take to check settings or
// activate a connection.
func (h *Host) SetCheckTimeout(d time.Duration) {
	if d > 0 {
		h.checkTimeout = d
	}
}

// OnStart registers fn to run, in its own goroutine, each time a plugin
// (re)starts: the core uses it to process what arrived while it was down.
func (h *Host) OnStart(fn func(kind string)) {
	h.mu.Lock()
	h.onStart = append(h.onStart, fn)
	h.mu.Unlock()
}

// Start launches every executable in the plugin directory. A plugin that
// fails to start is logged and left out; two plugins of one kind are an error.
func (h *Host) Start(ctx context.Context) error {
	entries, err := os.ReadDir(h.dir)
	if err != nil {
		return fmt.Errorf("pluginhost: read plugin dir %s: %w", h.dir, err)
	}
	var paths []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Mode()&0o111 == 0 || strings.HasSuffix(e.Name(), ManifestSuffix) {
			continue
		}
		paths = append(paths, filepath.Join(h.dir, e.Name()))
	}
	// Plugins start side by side: one that hangs in its handshake costs
	// the start-up its deadline once, not once per plugin after it.
	type launched struct {
		p   *proc
		err error
	}
	results := make([]launched, len(paths))
	var wg sync.WaitGroup
	for i, path := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].p, results[i].err = h.launch(ctx, path)
		}()
	}
	wg.Wait()
	runCtx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	// Registered in directory order, so a conflict is decided the same way every time.
	for i, path := range paths {
		p, err := results[i].p, results[i].err
		if err != nil {
			h.log.Error("plugin failed to start", "path", path, "err", err)
			h.mu.Lock()
			h.failed = append(h.failed, Plugin{Path: path, Error: err.Error()})
			h.mu.Unlock()
			continue
		}
		h.mu.Lock()
		var conflict error
		if other, dup := h.procs[p.kind]; dup {
			conflict = fmt.Errorf("pluginhost: %s and %s both declare kind %q", other.path, path, p.kind)
		} else if other := h.byChannel(p.info.Channel); other != nil {
			conflict = fmt.Errorf("pluginhost: %s and %s both serve channel %q", other.path, path, p.info.Channel)
		}
		if conflict != nil {
			h.mu.Unlock()
			for _, r := range results[i:] {
				if r.p != nil {
					r.p.client.Kill()
				}
			}
			h.StopAll()
			return conflict
		}
		h.procs[p.kind] = p
		h.mu.Unlock()
		h.log.Info("plugin started", "kind", p.kind, "version", p.version, "pid", p.pid, "path", path)
		h.wg.Add(1)
		go h.supervise(runCtx, p.kind)
		h.started(p.kind)
	}
	return nil
}

// launch starts a plugin that matches its manifest: the executable's
// checksum is checked here and again by go-plugin right before it runs it,
// and what the plugin declares must be what the manifest says.
func (h *Host) launch(ctx context.Context, path string) (*proc, error) {
	m, err := Verify(path)
	if err != nil {
		return nil, fmt.Errorf("refused %s: %w", path, err)
	}
	p, err := h.start(ctx, path, &m)
	if err != nil {
		return nil, err
	}
	if p.kind != m.Kind || p.protocol != m.Protocol {
		p.client.Kill()
		return nil, fmt.Errorf("refused %s: it declares kind %q, protocol %d; its manifest says kind %q, protocol %d",
			path, p.kind, p.protocol, m.Kind, m.Protocol)
	}
	return p, nil
}

// start runs a plugin and asks what it declares; with a manifest, go-plugin
// checks the executable's checksum before it runs it.
func (h *Host) start(ctx context.Context, path string, m *Manifest) (*proc, error) {
	var secure *plugin.SecureConfig
	if m != nil {
		sum, err := hex.DecodeString(m.SHA256)
		if err != nil {
			return nil, fmt.Errorf("refused %s: manifest checksum: %w", path, err)
		}
		secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	cmd := command(path)
	client := plugin.NewClient(&plugin.ClientConfig{
		SecureConfig:     secure,
		HandshakeConfig:  host.Handshake,
		VersionedPlugins: host.PluginSets(),
		Cmd:              cmd,
		// The plugin gets a minimal environment of its own, never the
		// hub's: its database URL, tokens and keys stay in the hub.
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// The plugin's log and go-plugin's own go into the hub's log.
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "plugin",
			Output:     newLogWriter(h.log.With("plugin", filepath.Base(path))),
			Level:      hclog.Info,
			JSONFormat: true,
		}),
		StartTimeout: h.startTimeout,
	})
	rpc, err := client.Client()
	if err != nil {
		killGroup(cmd)
		client.Kill()
		return nil, fmt.Errorf("start %s: %w", path, protocolError(err))
	}
	ch, err := host.Dispense(rpc)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("dispense %s: %w", path, err)
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, _, err := ch.Describe(dctx)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("describe %s: %w", path, err)
	}
	if info.Kind == "" {
		client.Kill()
		return nil, fmt.Errorf("%s declares no kind", path)
	}
	// go-plugin refused a plugin of no version the hub speaks, naming
	// both sides' versions; this is the one both agreed on.
	proto := client.NegotiatedVersion()
	if m := info.AuthMode(); m != sdk.AuthAPIKey && m != sdk.AuthSignature && m != sdk.AuthPublic {
		client.Kill()
		return nil, fmt.Errorf("%s declares unknown authentication %q", path, m)
	}
	if info.AuthMode() == sdk.AuthPublic && info.Channel != "" {
		// A connection's traffic comes from its provider, which can sign it.
		client.Kill()
		return nil, fmt.Errorf("%s declares channel %q with public authentication: a connection channel checks its provider's signature", path, info.Channel)
	}
	schema, err := CompileSchema(info.Kind, info.ConfigSchema)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pid := 0
	if rc := client.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	return &proc{kind: info.Kind, path: path, version: info.Version, protocol: proto, info: info, schema: schema,
		client: client, channel: ch, pid: pid, running: true}, nil
}

// command is how a plugin is started: with only the environment a program
// needs to run (PATH, the temporary directory, time zone and locale).
func command(path string) *exec.Cmd {
	cmd := exec.Command(path)
	cmd.Env = pluginEnv()
	ownGroup(cmd)
	return cmd
}

// pluginEnvKeys are the variables a plugin inherits from the hub.
var pluginEnvKeys = []string{"PATH", "TMPDIR", "TZ", "LANG", "LC_ALL", "HOME"}

func pluginEnv() []string {
	env := make([]string, 0, len(pluginEnvKeys))
	for _, k := range pluginEnvKeys {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// supervise restarts a plugin whenever its process exits, with backoff.
func (h *Host) supervise(ctx context.Context, kind string) {
	defer h.wg.Done()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		h.mu.RLock()
		p := h.procs[kind]
		exited := p.client.Exited()
		h.mu.RUnlock()
		if !exited {
			backoff = 100 * time.Millisecond
			continue
		}
		h.mu.Lock()
		if p.running {
			p.running = false
			h.log.Warn("plugin exited; restarting", "kind", kind, "pid", p.pid)
		}
		h.mu.Unlock()
		np, err := h.launch(ctx, p.path)
		if err != nil {
			h.log.Error("plugin restart failed", "kind", kind, "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		if np.kind != kind {
			np.client.Kill()
			h.log.Error("plugin changed kind on restart; not using it", "was", kind, "now", np.kind)
			continue
		}
		h.mu.Lock()
		if h.stopping {
			h.mu.Unlock()
			np.client.Kill()
			return
		}
		np.restarts = p.restarts + 1
		h.procs[kind] = np
		h.mu.Unlock()
		h.log.Info("plugin restarted", "kind", kind, "pid", np.pid, "restarts", np.restarts)
		h.started(kind)
	}
}

func (h *Host) started(kind string) {
	h.mu.RLock()
	fns := append([]func(string){}, h.onStart...)
	h.mu.RUnlock()
	for _, fn := range fns {
		go fn(kind)
	}
}

// Channel returns the running plugin of a kind.
func (h *Host) Channel(kind string) (sdk.Channel, error) {
	ch, err := h.running(kind)
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// Info returns what the plugin of a kind declared.
func (h *Host) Info(kind string) (sdk.Info, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	p, ok := h.procs[kind]
	if !ok {
		return sdk.Info{}, false
	}
	return p.info, true
}

// ByChannel returns what the plugin serving a connection channel ("SMS")
// declared.
func (h *Host) ByChannel(channel string) (sdk.Info, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if p := h.byChannel(channel); p != nil {
		return p.info, true
	}
	return sdk.Info{}, false
}

func (h *Host) byChannel(channel string) *proc {
	if channel == "" {
		return nil
	}
	for _, p := range h.procs {
		if p.info.Channel == channel {
			return p
		}
	}
	return nil
}

// Channels lists the connection channels the plugins serve, sorted.
func (h *Host) Channels() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []string
	for _, p := range h.procs {
		if p.info.Channel != "" {
			out = append(out, p.info.Channel)
		}
	}
	sort.Strings(out)
	return out
}

// CheckTimeout is how long a plugin may take by default to check settings
// or to activate a connection, which may call the provider.
const CheckTimeout = 10 * time.Second

// ValidateConfig checks configuration against the schema the kind's plugin
// declared, then, if the plugin checks settings itself, asks it. A refusal
// is a *ConfigError naming the field at fault; an error wrapping
// ErrUnavailable means the plugin had to be asked and could not be.
func (h *Host) ValidateConfig(ctx context.Context, kind string, cfg []byte) error {
	h.mu.RLock()
	p, ok := h.procs[kind]
	var schema *Schema
	var checks bool
	if ok {
		schema, checks = p.schema, p.channel.ChecksConfig()
	}
	h.mu.RUnlock()
	if !ok {
		return fmt.Errorf("pluginhost: kind %q: %w", kind, ErrUnknownKind)
	}
	if err := schema.Validate(cfg); err != nil {
		return err
	}
	if !checks {
		return nil
	}
	ch, err := h.running(kind)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.checkTimeout)
	defer cancel()
	return refusal(kind, ch.CheckConfig(ctx, cfg))
}

// Activate asks the plugin of a kind to prepare its provider for a
// connection, if it declared that it does. A refusal of the settings is a
// *ConfigError; a provider's failure a *sdk.ProviderError.
func (h *Host) Activate(ctx context.Context, kind string, req *sdk.ActivateRequest) error {
	ch, err := h.running(kind)
	if err != nil {
		return err
	}
	if !ch.Activates() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.checkTimeout)
	defer cancel()
	return refusal(kind, ch.Activate(ctx, req))
}

// running returns the client of a running plugin.
func (h *Host) running(kind string) (*host.Client, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	p, ok := h.procs[kind]
	if !ok {
		return nil, fmt.Errorf("pluginhost: kind %q: %w", kind, ErrUnknownKind)
	}
	if !p.running || p.client.Exited() {
		return nil, fmt.Errorf("pluginhost: kind %q: %w", kind, ErrUnavailable)
	}
	return p.channel, nil
}

// pluginVersion finds the plugin's version in go-plugin's refusal.
var pluginVersion = regexp.MustCompile(`incompatible API version.*Plugin version: (\d+)`)

// protocolError words go-plugin's refusal of a plugin's protocol version,
// which lists the hub's versions in random order, with both sides'
// versions in order.
func protocolError(err error) error {
	m := pluginVersion.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	hub := make([]string, len(host.SupportedProtocols))
	for i, v := range host.SupportedProtocols {
		hub[i] = strconv.Itoa(v)
	}
	return fmt.Errorf("the plugin speaks protocol version %s and this hub speaks versions %s: build the plugin against an SDK of one of those",
		m[1], strings.Join(hub, ", "))
}

// refusal turns a plugin's refusal of settings into a *ConfigError, and
// makes a provider's error safe to show: one line, bounded.
func refusal(kind string, err error) error {
	var rej *sdk.RejectError
	var pe *sdk.ProviderError
	if errors.As(err, &pe) {
		safe := *pe
		safe.Message = safeText(pe.Message, 500)
		return &safe
	}
	if !errors.As(err, &rej) {
		return err
	}
	return &ConfigError{Field: safeText(rej.Field, 200), Message: "the " + kind + " plugin refused it: " + safeText(rej.Message, 500)}
}

// safeText is a plugin's text made fit for an API answer or an event: valid
// UTF-8 on one line, at most n bytes.
func safeText(v string, n int) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v)
	if len(v) <= n {
		return v
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n] + "…"
}

// Known reports whether some plugin declared this kind.
func (h *Host) Known(kind string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := h.procs[kind]
	return ok
}

// Plugins lists the plugins, by kind.
func (h *Host) Plugins() []Plugin {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]Plugin, 0, len(h.procs))
	for _, p := range h.procs {
		out = append(out, Plugin{Kind: p.kind, Version: p.version, Protocol: p.protocol, Path: p.path, PID: p.pid,
			Running: p.running && !p.client.Exited(), Restarts: p.restarts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return append(out, h.failed...)
}

// Ready returns an error naming the first plugin that is not running or
// never started.
func (h *Host) Ready() error {
	for _, p := range h.Plugins() {
		switch {
		case p.Error != "":
			return fmt.Errorf("plugin %s failed to start", filepath.Base(p.Path))
		case !p.Running:
			return fmt.Errorf("plugin %s is not running", p.Kind)
		}
	}
	return nil
}

// StopAll stops supervision and kills every plugin process.
func (h *Host) StopAll() {
	h.mu.Lock()
	h.stopping = true
	h.mu.Unlock()
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.procs {
		p.client.Kill()
		p.running = false
	}
}
