package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// options is how the suite runs: how many rounds, how long each, which
// databases.
type options struct {
	root      string   // the repository
	bin       string   // bin/switchboard
	databases []string // "sqlite", "postgres"
	quick     bool

	runs        int
	ingestFor   time.Duration
	e2eFor      time.Duration
	cpuFor      time.Duration
	idleFor     time.Duration
	drain       int
	prefill     int
	goDeliveryN int    // -benchtime Nx of BenchmarkTargetDeliveries
	goBenchTime string // -benchtime of the round-trip and transform benchmarks

	docPath  string // "" leaves the doc alone
	jsonPath string
	keepTmp  bool
}

func defaultOptions() options {
	return options{
		databases: []string{"sqlite", "postgres"},
		runs:      3, ingestFor: 8 * time.Second, e2eFor: 8 * time.Second, cpuFor: 6 * time.Second, idleFor: 5 * time.Second,
		drain: 5000, prefill: 200_000, goDeliveryN: 10_000, goBenchTime: "1s",
	}
}

// quickOptions is a smoke run: every step once, briefly.
func quickOptions() options {
	o := defaultOptions()
	o.quick = true
	o.runs, o.ingestFor, o.e2eFor, o.cpuFor, o.idleFor = 1, 3*time.Second, 3*time.Second, 3*time.Second, 2*time.Second
	o.drain, o.prefill, o.goDeliveryN, o.goBenchTime = 1000, 20_000, 2000, "200ms"
	return o
}

// suite runs the plan and keeps what it measured.
type suite struct {
	opts options
	bin  string
	root string
	tmp  string
	log  *slog.Logger
	proc procFS
	pg   *postgres

	bare, bare2 *process
	dbs         []*dbEnv

	// failed keeps the temp dir (hub logs) for a look at what went wrong.
	failed bool
	// repeated lists rounds run again because a server was stopped from
	// outside the suite during them.
	repeated []string

	mu      sync.Mutex
	runs    []*run
	goRuns  map[string][]goBench // by step key: "deliveries", "roundtrip", "transform"
	goCmds  map[string]string
	flagged []string
}

// dbEnv is one database's hub and what was measured of it alone.
type dbEnv struct {
	name, title string
	url         string
	token       string
	hub, hub2   *process
	// idleRSS is each start's hub-and-plugins RSS after idling, in MiB,
	// and processes how many processes that counted.
	idleRSS   []float64
	processes int
	// prefilled is the table's size before the full-table drains.
	prefilled int
}

// step is one line of the plan: what the progress bar shows.
type step struct {
	name     string
	estimate time.Duration
	fn       func(ctx context.Context) error
}

func (s *suite) logPath(name string) string { return filepath.Join(s.tmp, name) }

func (s *suite) appendLog(name, text string) {
	f, err := os.OpenFile(s.logPath(name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, text)
}

// record keeps a run and flags it loudly when a hub lost or duplicated an
// acknowledged message, or answered with an error.
func (s *suite) record(r *run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs = append(s.runs, r)
	if r.Result == nil {
		return
	}
	lost, dup := r.Result.lostOrDuplicated()
	where := fmt.Sprintf("%s on %s, round %d", r.Scenario, r.Database, r.Round)
	switch {
	case r.Bare && (lost > 0 || dup > 0):
		// A bare relay keeps nothing and retries nothing; worth a note, not a failure.
		s.log.Warn("bare relay lost or duplicated messages", "run", where, "lost", lost, "duplicated", dup)
	case !r.Bare && (lost > 0 || dup > 0):
		msg := fmt.Sprintf("%s: %d acknowledged messages LOST, %d DUPLICATED", where, lost, dup)
		s.flagged = append(s.flagged, msg)
		s.log.Error("!!! LOST OR DUPLICATED MESSAGES !!!", "run", where, "lost", lost, "duplicated", dup)
	}
	if r.Result.Failed > 0 {
		s.log.Warn("requests failed", "run", where, "bare", r.Bare, "failed", r.Result.Failed, "first_error", r.Result.FirstError)
	}
	if r.Result.Missed > 0 {
		s.log.Warn("open loop fell behind: the figures are a lower bound", "run", where, "bare", r.Bare, "missed", r.Result.Missed)
	}
}

// start prepares what every step needs: a temp dir, PostgreSQL (as CI
// starts it) when asked, and, withBare, the bare server.
func (s *suite) start(ctx context.Context, withBare bool) error {
	var err error
	if s.dbs, err = newEnvs(s.opts.databases); err != nil {
		return err
	}
	if s.tmp, err = os.MkdirTemp("", "switchboard-bench."); err != nil {
		return fmt.Errorf("benchsuite: %w", err)
	}
	for _, env := range s.dbs {
		switch env.name {
		case "sqlite":
			if err := os.MkdirAll(filepath.Join(s.tmp, "sqlite"), 0o755); err != nil {
				return fmt.Errorf("benchsuite: %w", err)
			}
			env.url = "sqlite://" + filepath.Join(s.tmp, "sqlite", "switchboard.db")
		case "postgres":
			if s.pg, err = startPostgres(ctx, s.root, s.log); err != nil {
				return err
			}
			env.url = s.pg.url
		}
	}
	if withBare {
		if s.bare, err = s.startBare(ctx, "bare"); err != nil {
			return err
		}
	}
	return nil
}

// newEnvs names the databases to run on, in order.
func newEnvs(names []string) ([]*dbEnv, error) {
	titles := map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}
	var envs []*dbEnv
	for _, name := range names {
		title, ok := titles[name]
		if !ok {
			return nil, fmt.Errorf("benchsuite: unknown database %q (sqlite, postgres)", name)
		}
		envs = append(envs, &dbEnv{name: name, title: title})
	}
	if len(envs) == 0 {
		return nil, fmt.Errorf("benchsuite: no database to run on")
	}
	return envs, nil
}

// stop ends every process the suite started, hubs before their database.
func (s *suite) stop() {
	for _, env := range s.dbs {
		env.hub.stop()
		env.hub2.stop()
	}
	s.bare.stop()
	s.bare2.stop()
	s.pg.stop()
	switch {
	case s.tmp == "":
	case s.opts.keepTmp || s.failed:
		s.log.Info("benchsuite: kept the logs and databases", "dir", s.tmp)
	default:
		os.RemoveAll(s.tmp)
	}
}

// idle lets a freshly started hub settle, then sums its process tree's RSS.
func (s *suite) idle(ctx context.Context, env *dbEnv) error {
	if env.hub == nil {
		return fmt.Errorf("benchsuite: %s: no hub running", env.name)
	}
	for attempt := 1; ; attempt++ {
		select {
		case <-time.After(s.opts.idleFor):
		case <-ctx.Done():
			return ctx.Err()
		}
		err := env.hub.alive()
		if err == nil {
			break
		}
		if attempt == 3 {
			return err
		}
		s.log.Warn("the hub was stopped from outside the suite while idle; starting it again", "database", env.name)
		if err := s.revive(ctx, env); err != nil {
			return err
		}
	}
	rss, n, err := s.proc.rss(env.hub.pid())
	if err != nil {
		return err
	}
	env.idleRSS = append(env.idleRSS, float64(rss)/(1<<20))
	env.processes = n
	return nil
}

// restartHub stops env's hub, runs between (if any) with it stopped, then
// starts it again on the same database and measures it idle.
func (s *suite) restartHub(ctx context.Context, env *dbEnv, between func(context.Context) error) error {
	env.hub.stop()
	env.hub = nil
	if between != nil {
		if err := between(ctx); err != nil {
			return err
		}
	}
	var err error
	if env.hub, err = s.startHub(ctx, "hub-"+env.name, env.url); err != nil {
		return err
	}
	return s.idle(ctx, env)
}

// round runs one scenario's bare and hub runs back to back, the order
// alternating from round to round so neither always goes first. On a
// shared machine someone else's cleanup may stop a server mid-run: the
// round is then run again on a fresh one, at most twice, and said so.
func (s *suite) round(ctx context.Context, scenario string, env *dbEnv, k int, withBare, twoHubs bool, sendFor time.Duration, flags ...string) error {
	for attempt := 1; ; attempt++ {
		err := s.roundOnce(ctx, scenario, env, k, withBare, twoHubs, sendFor, flags...)
		var gone *goneError
		if err == nil || !errors.As(err, &gone) || attempt == 3 || ctx.Err() != nil {
			return err
		}
		what := fmt.Sprintf("%s on %s, round %d: %s stopped from outside the suite, round repeated", scenario, env.name, k, gone.p.name)
		s.log.Warn("a server was stopped from outside the suite during a round (someone's pkill?); starting it again and repeating the round",
			"server", gone.p.name, "scenario", scenario, "database", env.name, "round", k)
		s.mu.Lock()
		s.repeated = append(s.repeated, what)
		s.mu.Unlock()
		if err := s.revive(ctx, env); err != nil {
			return err
		}
	}
}

// goneError is a server that stopped during a run without the suite's
// asking: the run measured nothing worth keeping.
type goneError struct{ p *process }

func (e *goneError) Error() string {
	return fmt.Sprintf("benchsuite: %s (pid %d) stopped during the run, not by the suite (%v)", e.p.name, e.p.pid(), e.p.err)
}

func (s *suite) roundOnce(ctx context.Context, scenario string, env *dbEnv, k int, withBare, twoHubs bool, sendFor time.Duration, flags ...string) error {
	if env.hub == nil || twoHubs && (env.hub2 == nil || s.bare2 == nil) {
		return fmt.Errorf("benchsuite: %s: no hub running (an earlier step failed)", scenario)
	}
	hubs := benchTarget{names: []string{"$HUB"}, urls: []string{env.hub.url}, token: env.token, cpuOf: env.hub.pid()}
	bare := benchTarget{bare: true, names: []string{"$BARE"}, urls: []string{s.bare.url}}
	hubProcs, bareProcs := []*process{env.hub}, []*process{s.bare}
	if twoHubs {
		hubs = benchTarget{names: []string{"$HUB", "$HUB2"}, urls: []string{env.hub.url, env.hub2.url}, token: env.token}
		bare = benchTarget{bare: true, names: []string{"$BARE", "$BARE2"}, urls: []string{s.bare.url, s.bare2.url}}
		hubProcs, bareProcs = []*process{env.hub, env.hub2}, []*process{s.bare, s.bare2}
	}
	targets := []benchTarget{hubs}
	if withBare {
		targets = []benchTarget{bare, hubs}
		if k%2 == 0 {
			targets = []benchTarget{hubs, bare}
		}
	}
	for _, t := range targets {
		needs := hubProcs
		if t.bare {
			needs = bareProcs
		}
		r, err := s.watched(ctx, needs, func(ctx context.Context) (*run, error) { return s.runBench(ctx, t, sendFor, flags...) })
		r.Scenario, r.Database, r.Round = scenario, env.name, k
		if err != nil {
			r.Result, r.Error = nil, err.Error()
		}
		s.record(r)
		if err != nil {
			return err
		}
	}
	return nil
}

// watched runs fn, cancelling it if one of the servers it needs stops, and
// reports that as a goneError.
func (s *suite) watched(ctx context.Context, needs []*process, fn func(context.Context) (*run, error)) (*run, error) {
	dead := func() *process {
		for _, p := range needs {
			if p.alive() != nil {
				return p
			}
		}
		return nil
	}
	if p := dead(); p != nil {
		return &run{}, &goneError{p}
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, p := range needs {
		go func() {
			select {
			case <-p.done:
				cancel()
			case <-rctx.Done():
			}
		}()
	}
	r, err := fn(rctx)
	if p := dead(); p != nil {
		return r, &goneError{p}
	}
	return r, err
}

// revive starts again every server of env (and the bare servers) that has
// stopped, and removes the subscriptions of receivers gone with an
// interrupted run, so their deliveries do not load the runs that follow.
func (s *suite) revive(ctx context.Context, env *dbEnv) error {
	for _, hp := range []**process{&env.hub, &env.hub2} {
		if p := *hp; p != nil && p.alive() != nil {
			p.stop()
			np, err := s.startHub(ctx, p.name, env.url)
			if err != nil {
				return err
			}
			*hp = np
		}
	}
	for _, bp := range []**process{&s.bare, &s.bare2} {
		if p := *bp; p != nil && p.alive() != nil {
			p.stop()
			np, err := s.startBare(ctx, p.name)
			if err != nil {
				return err
			}
			*bp = np
		}
	}
	if env.hub != nil {
		return s.removeBenchSubscriptions(ctx, env)
	}
	return nil
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s" }
