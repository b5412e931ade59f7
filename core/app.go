// Package core is the Switchboard hub: it wires the store, the plugin host,
// the inbound pipeline, the delivery worker and the HTTP API, and starts and
// stops them in a visible order.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchboardhq/switchboard/adminui"
	"github.com/switchboardhq/switchboard/core/activation"
	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/delivery"
	"github.com/switchboardhq/switchboard/core/httpapi"
	"github.com/switchboardhq/switchboard/core/inbound"
	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/pluginhost"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/threads"
	"github.com/switchboardhq/switchboard/scripts"
)

// Version is set at build time.
var Version = "dev"

// App is one running hub process.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	Store   *store.Store
	Plugins *pluginhost.Host
	writer  *threads.BatchWriter
	// Threads is the threading service: the rules messages are recorded by.
	Threads *threads.Service
	inbound *inbound.Service
	// Live tells whoever watches a conversation (a visitor's stream, an
	// inbox) that it changed, in this process and, on PostgreSQL, in the
	// others.
	Live   *live.Hub
	worker *delivery.Worker
	engine *scripts.Engine
	api    *httpapi.Server
	ui     *adminui.UI
	server *http.Server
	ln     net.Listener

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New opens the database, migrates it and starts the plugins. Start begins serving.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	st, err := store.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	host := pluginhost.New(cfg.PluginDir, log)
	if err := host.Start(ctx); err != nil {
		st.Close()
		return nil, err
	}
	loops := 1
	if st.Dialect() == "postgres" {
		loops = 4
	}
	var bus live.Bus
	if nb := st.NotifyBus(); nb != nil {
		bus = nb
	}
	changes := live.New(bus, log.With("component", "live"))
	planner := delivery.NewPlanner(st)
	threading := threads.NewService(st, host, planner)
	threading.Publish(changes)
	w := threads.NewBatchWriter(st, threading.Record, log, reg, threads.Options{Loops: loops, Live: changes})
	ints := auth.NewIntegrations(st.IntegrationAuth)
	in := inbound.NewService(st, w, host, ints, log, reg, inbound.Options{MaxBodyBytes: cfg.MaxBodyBytes, AllowPrivate: cfg.AllowPrivateTargets})
	hostname, _ := os.Hostname()
	engine := scripts.NewEngine(scripts.Options{
		Limits:     scripts.Limits{Timeout: cfg.TransformTimeout, MemoryBytes: int64(cfg.TransformMemoryMB) << 20},
		Runners:    cfg.TransformRunners,
		Log:        log.With("component", "transforms"),
		Registerer: reg,
	})
	targets := delivery.NewGuard(cfg.AllowPrivateTargets)
	worker := delivery.NewWorker(st, planner, engine, log, reg, delivery.Options{
		ID:                fmt.Sprintf("%s/%d/%s", hostname, os.Getpid(), uuid.NewString()[:8]),
		Schedule:          cfg.RetrySchedule,
		Concurrency:       cfg.DeliveryConcurrency,
		TargetConcurrency: cfg.DeliveryTargetConcurrency,
		Timeout:           cfg.DeliveryTimeout,
		Guard:             targets,
		DisableAfter:      cfg.TargetDisableAfter,
		UserAgent:         "Switchboard/" + Version,
		TransformTimeout:  cfg.TransformTimeout,
		Channels:          host,
	})
	api := httpapi.New(httpapi.Deps{
		Store:        st,
		Inbound:      in,
		AdminTokens:  auth.NewAdminTokens(st, log),
		Integrations: ints,
		Plugins:      host,
		Worker:       worker,
		Planner:      planner,
		Threads:      threading,
		Activation:   activation.New(host),
		Engine:       engine,
		Log:          log,
		Registry:     reg,
		PublicURL:    cfg.PublicURL,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Targets:      targets,
		Live:         changes,

		LiveMaxStreams:               cfg.LiveMaxStreams,
		LiveMaxStreamsPerIntegration: cfg.LiveMaxStreamsPerIntegration,
	})
	ui, err := adminui.New(adminui.Deps{Store: st, API: api.Handler(), Log: log.With("component", "adminui"), PublicURL: cfg.PublicURL, Live: changes})
	if err != nil {
		host.StopAll()
		st.Close()
		return nil, err
	}
	api.UI = ui
	a := &App{cfg: cfg, log: log, Store: st, Plugins: host, writer: w, Threads: threading, inbound: in, Live: changes,
		worker: worker, engine: engine, api: api, ui: ui}
	a.server = &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Live streams never finish by themselves: end them when shutdown
	// begins, or it would wait for them until its deadline.
	a.server.RegisterOnShutdown(api.CloseStreams)
	a.server.RegisterOnShutdown(ui.CloseStreams)
	in.OnDeliveries(worker.Notify)
	// Whatever arrived while a plugin was down is processed when it is back.
	host.OnStart(func(kind string) {
		if err := in.Replay(context.Background(), kind); err != nil {
			log.Error("replay kept requests", "kind", kind, "err", err)
		}
	})
	return a, nil
}

// Start listens on the configured address and runs the background workers.
func (a *App) Start() error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	a.ln = ln
	base := a.cfg.PublicURL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	a.worker.SetCallbackBase(strings.TrimRight(base, "/"))
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.wg.Add(6)
	go func() {
		defer a.wg.Done()
		a.ui.PurgeSessions(ctx, time.Hour)
	}()
	go func() {
		defer a.wg.Done()
		sweep := min(max(a.cfg.ChatInactivityTimeout/10, time.Second), time.Minute)
		a.Threads.EndIdleChats(ctx, a.log, a.cfg.ChatInactivityTimeout, sweep, a.worker.Notify)
	}()
	go func() {
		defer a.wg.Done()
		if err := a.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server stopped", "err", err)
		}
	}()
	go func() {
		defer a.wg.Done()
		a.worker.Run(ctx)
	}()
	go func() {
		defer a.wg.Done()
		a.inbound.ReplayLoop(ctx, a.pluginKinds, 5*time.Second)
	}()
	go func() {
		defer a.wg.Done()
		a.Live.Run(ctx) // carries changes to and from the other processes
	}()
	if a.cfg.DebugAddr != "" {
		a.startDebug()
	}
	return nil
}

// startDebug serves pprof on its own listener, never on the public one.
func (a *App) startDebug() {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: a.cfg.DebugAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		a.log.Info("debug server listening", "addr", a.cfg.DebugAddr)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("debug server stopped", "err", err)
		}
	}()
}

func (a *App) pluginKinds() []string {
	var kinds []string
	for _, p := range a.Plugins.Plugins() {
		if p.Kind != "" {
			kinds = append(kinds, p.Kind)
		}
	}
	return kinds
}

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// OpenStreams counts the live streams this process holds open.
func (a *App) OpenStreams() int { return a.api.OpenStreams() }

// Handler is what the hub serves HTTP with, for tests that must send a
// request as a client elsewhere would (from another address).
func (a *App) Handler() http.Handler { return a.server.Handler }

// OpenInboxStreams counts the admin UI's inbox streams this process holds open.
func (a *App) OpenInboxStreams() int { return a.ui.OpenStreams() }

// Routes lists the HTTP routes the hub serves.
func (a *App) Routes() []httpapi.Route { return a.api.Routes() }

// Shutdown stops in order: end the live streams, stop taking requests and
// finish those in flight, commit what the writer holds, let deliveries in
// flight finish, stop the plugins, close the database.
func (a *App) Shutdown(ctx context.Context) error {
	var errs []error
	if err := a.server.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if a.cancel != nil {
		a.cancel() // stops the replay loop and the delivery worker
	}
	a.inbound.Close()
	a.writer.Close()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, errors.New("background workers did not stop in time"))
	}
	a.engine.Close()
	a.Plugins.StopAll()
	if err := a.Store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
