// Command benchsuite is `make bench`: it runs Switchboard's benchmarks on
// SQLite and on PostgreSQL (started as CI starts it), each figure beside a
// bare-HTTP ceiling measured in the same run, checks that nothing
// acknowledged was lost or duplicated, and writes the results into
// docs/benchmarks.md between its markers. With -soak it is `make soak`: a
// long run at half the saturated rate, watching the hub's memory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := runMain(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsuite:", err)
		os.Exit(1)
	}
}

func runMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("benchsuite", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "a smoke run: each step once and briefly (the doc is left alone unless -doc is given)")
	dbs := fs.String("db", "sqlite,postgres", "databases to run on, comma-separated")
	runs := fs.Int("runs", 0, "runs of each scenario (default 3, 1 with -quick)")
	docPath := fs.String("doc", "docs/benchmarks.md", "page to write the results into, between its markers (empty: none)")
	jsonPath := fs.String("json", "bench-results.json", "file for the raw results (the soak writes bench-soak.json beside it)")
	keep := fs.Bool("keep", false, "keep the temp dir (hub logs, databases) and print where it is")
	verbose := fs.Bool("v", false, "log more")
	dry := fs.Bool("n", false, "print the plan, each step with its estimate, and run nothing")
	soak := fs.Bool("soak", false, "the soak instead: a long run at half the saturated ingest rate, sampling the hub's and its plugins' RSS")
	soakFor := fs.Duration("soak-for", 10*time.Minute, "how long the soak sends")
	soakRate := fs.Float64("soak-rate", 0, "the soak's messages/s (default: half the median saturated rate in -json's results, else measured first)")
	soakDB := fs.String("soak-db", "sqlite", "the soak's database: sqlite or postgres")
	if err := fs.Parse(args); err != nil {
		return err
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	o := defaultOptions()
	if *quick {
		o = quickOptions()
		if !explicit["doc"] {
			*docPath = ""
		}
	}
	if *runs > 0 {
		o.runs = *runs
	}
	o.databases = nil
	for d := range strings.SplitSeq(*dbs, ",") {
		if d = strings.TrimSpace(d); d != "" {
			o.databases = append(o.databases, d)
		}
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, ".ci", "start-postgres")); err != nil {
		return errors.New("run from the repository's root (make bench does)")
	}
	o.root, o.bin, o.docPath, o.jsonPath, o.keepTmp = root, filepath.Join(root, "bin", "switchboard"), *docPath, *jsonPath, *keep
	if _, err := os.Stat(o.bin); err != nil {
		return errors.New("bin/switchboard is missing: run make build first (make bench does)")
	}

	p := newProgress(os.Stderr)
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(io.Writer(p), &slog.HandlerOptions{Level: level}))
	s := &suite{opts: o, bin: o.bin, root: root, log: log, proc: procFS("/proc"),
		goRuns: map[string][]goBench{}, goCmds: map[string]string{}}
	if *dry {
		var err error
		if s.dbs, err = newEnvs(o.databases); err != nil {
			return err
		}
		var total time.Duration
		for i, st := range s.plan() {
			fmt.Printf("%3d  %-6s %s\n", i+1, st.estimate.Round(time.Second), st.name)
			total += st.estimate
		}
		fmt.Printf("estimated %s, before building and compiling the Go benchmarks\n", total.Round(time.Second))
		return nil
	}
	if *soak {
		o.databases = []string{*soakDB}
		s.opts = o
		return s.soak(ctx, p, *soakFor, *soakRate)
	}
	return s.bench(ctx, p)
}

// bench runs the whole suite and writes what it measured.
func (s *suite) bench(ctx context.Context, p *progress) error {
	start := time.Now()
	defer s.stop()
	if err := s.start(ctx, true); err != nil {
		p.finish()
		return err
	}
	if s.opts.keepTmp {
		fmt.Fprintln(os.Stderr, "benchsuite: logs and databases in", s.tmp)
	}
	pgURL := ""
	if s.pg != nil {
		pgURL = s.pg.url
	}
	m, err := describeMachine(ctx, pgURL)
	if err != nil {
		p.finish()
		return err
	}
	steps := s.plan()
	estimates := make([]time.Duration, len(steps))
	for i, st := range steps {
		estimates[i] = st.estimate
	}
	p.setPlan(estimates)
	var errs []string
	for i, st := range steps {
		if ctx.Err() != nil {
			break
		}
		p.begin(i+1, st.name)
		if err := st.fn(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("step failed", "step", st.name, "err", err)
			errs = append(errs, st.name+": "+err.Error())
			s.failed = true
		}
	}
	p.finish()
	if ctx.Err() != nil {
		return errors.New("interrupted; nothing written")
	}
	m.LoadAfter = loadAverage()
	res := s.collect(m, time.Since(start), errs)
	if err := writeJSON(s.opts.jsonPath, res); err != nil {
		return err
	}
	block := res.markdown(s.dbs)
	fmt.Println(block)
	fmt.Fprintf(os.Stderr, "benchsuite: raw results in %s; the suite took %s\n", s.opts.jsonPath, time.Since(start).Round(time.Second))
	switch {
	case len(errs) > 0:
		return fmt.Errorf("%d steps failed, the doc is left alone: %s", len(errs), strings.Join(errs, "; "))
	case s.opts.docPath != "":
		if err := benchMarkers.replaceInFile(s.opts.docPath, block); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "benchsuite: wrote %s\n", s.opts.docPath)
	}
	if n := len(res.Flagged); n > 0 {
		return fmt.Errorf("%d runs LOST OR DUPLICATED acknowledged messages: %s", n, strings.Join(res.Flagged, "; "))
	}
	return nil
}
