package main

import (
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

const goTestOutput = `goos: linux
goarch: amd64
pkg: github.com/switchboardhq/switchboard/core
cpu: Intel(R) Xeon(R) Processor
BenchmarkTargetDeliveries/sqlite/templates-2         	   20000	    159172 ns/op	      6282 deliveries/s
BenchmarkTargetDeliveries/sqlite/transform-2         	   20000	    362380 ns/op	      2760 deliveries/s
BenchmarkTargetDeliveries/sqlite/templates-2         	   20000	    150000 ns/op	      6600 deliveries/s
BenchmarkRoundTrip-2           	    6950	    161318 ns/op	    6174 B/op	     102 allocs/op
BenchmarkTransform   	    2454	     88004 ns/op
--- FAIL: BenchmarkOther
PASS
ok  	github.com/switchboardhq/switchboard/core	97.547s
`

func TestParseGoBench(t *testing.T) {
	res := parseGoBench(goTestOutput)
	if len(res) != 5 {
		t.Fatalf("%d results: %+v", len(res), res)
	}
	if r := res[0]; r.Name != "BenchmarkTargetDeliveries/sqlite/templates" || r.N != 20000 || r.Metrics["deliveries/s"] != 6282 || r.Metrics["ns/op"] != 159172 {
		t.Errorf("first result: %+v", r)
	}
	if got := metric(res, "BenchmarkTargetDeliveries/sqlite/templates", "deliveries/s"); len(got) != 2 || got[1] != 6600 {
		t.Errorf("templates over two counts: %v", got)
	}
	if r := res[3]; r.Metrics["allocs/op"] != 102 || r.Metrics["B/op"] != 6174 {
		t.Errorf("round trip: %+v", r)
	}
	if r := res[4]; r.Name != "BenchmarkTransform" || r.Metrics["ns/op"] != 88004 {
		t.Errorf("a name without the GOMAXPROCS suffix: %+v", r)
	}
}

func TestLeft(t *testing.T) {
	est := []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute}
	// Before any step has finished, the estimates as they are.
	if got := left(est, 1, 0, 0, 0); got != 6*time.Minute {
		t.Errorf("at the start: %v", got)
	}
	// Steps 1 and 2 took twice their estimates: what is left is scaled.
	if got := left(est, 3, 3*time.Minute, 6*time.Minute, 0); got != 6*time.Minute {
		t.Errorf("running slow: %v, want 6m", got)
	}
	// Midway through the last step.
	if got := left(est, 3, 3*time.Minute, 4*time.Minute, time.Minute); got != 2*time.Minute {
		t.Errorf("in the last step: %v, want 2m", got)
	}
	// Less than a minute behind: no pace to go by yet.
	short := []time.Duration{15 * time.Second, 20 * time.Second, 10 * time.Minute}
	if got := left(short, 3, 35*time.Second, 5*time.Second, 0); got != 10*time.Minute {
		t.Errorf("after two short steps: %v, want 10m", got)
	}
}

// TestFigures: a ratio is taken round by round (hub beside the bare run of
// the same round), the median of the ratios; targets are judged on the
// median; the exactly-once totals count hub runs only.
func TestFigures(t *testing.T) {
	s := &suite{log: slog.New(slog.DiscardHandler), goRuns: map[string][]goBench{}, goCmds: map[string]string{},
		dbs: []*dbEnv{{name: "sqlite", title: "SQLite", idleRSS: []float64{90, 100, 95}, processes: 5}}}
	ingest := func(round int, bare bool, rate, p99 float64) {
		s.record(&run{Scenario: scIngest, Database: "sqlite", Round: round, Bare: bare, Command: "bench",
			Result: &benchOut{PerSecond: rate, P99Ms: p99, Acknowledged: int(rate)}, CPUPerMessageMs: 1000 / rate})
	}
	// Rounds whose bare ceiling drifts: 4,000 beside 10,000, 3,000 beside 6,000, 5,000 beside 10,000.
	ingest(1, true, 10000, 5)
	ingest(1, false, 4000, 20)
	ingest(2, true, 6000, 10)
	ingest(2, false, 3000, 15)
	ingest(3, true, 10000, 10)
	ingest(3, false, 5000, 15)
	s.record(&run{Scenario: scCPU200, Database: "sqlite", Round: 1, Command: "bench", Result: &benchOut{PerSecond: 200, Acknowledged: 200},
		CPUPerMessageMs: 0.5})
	// A run a server's loss cut short counts nowhere.
	s.record(&run{Scenario: scIngest, Database: "sqlite", Round: 4, Command: "bench", Error: "hub stopped"})

	figs := map[string]figure{}
	for _, f := range s.figures() {
		figs[f.Key] = f
	}
	rate := figs["ingest-rate"].Cells["sqlite"]
	if rate.Value != (stat{N: 3, Median: 4000, Min: 3000, Max: 5000}) || rate.Bare.Median != 10000 {
		t.Errorf("ingest rate: %+v, bare %+v", rate.Value, rate.Bare)
	}
	// Ratios 0.4, 0.5, 0.5: the median is 0.5, not 4,000 ÷ 10,000.
	if rate.Ratio.Median != 0.5 || rate.Ratio.Min != 0.4 || rate.Met == nil || !*rate.Met {
		t.Errorf("ingest ratio: %+v met %v", rate.Ratio, rate.Met)
	}
	p99 := figs["ingest-p99"].Cells["sqlite"]
	if p99.Ratio.Median != 1.5 || p99.Ratio.Max != 4 || !*p99.Met {
		t.Errorf("p99 ratio (4, 1.5, 1.5): %+v", p99.Ratio)
	}
	// CPU: round 1 only has both, 0.5 ms at 200/s against 0.25 ms at 4,000/s.
	if cpu := figs["cpu-ratio"].Cells["sqlite"]; cpu.Value.N != 1 || math.Abs(cpu.Value.Median-2) > 1e-9 || !*cpu.Met {
		t.Errorf("cpu: %+v", cpu.Value)
	}
	if rss := figs["idle-rss"].Cells["sqlite"]; rss.Value.Median != 95 || !*rss.Met || rss.Note != "5 processes" {
		t.Errorf("rss: %+v", rss)
	}
	if _, ok := figs["e2e-200-p99"].Cells["sqlite"]; ok {
		t.Error("a figure without runs has a cell")
	}

	res := s.collect(machine{}, time.Minute, nil)
	if res.Totals.HubRuns != 4 || res.Totals.Acknowledged != 12200 || res.Totals.Lost != 0 {
		t.Errorf("totals: %+v", res.Totals)
	}
	md := res.markdown(s.dbs)
	for _, want := range []string{"| ingest at 64 connections: at least 40% of bare HTTP's rate | 4,000 msg/s [3,000–5,000] | 10,000 msg/s [6,000–10,000] | 50% (hub ÷ bare) | met |",
		"0 lost and 0 duplicated over 4 hub runs", "bin/switchboard serve --allow-private-targets"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestRecordFlagsLoss: a hub run with a lost or duplicated message is
// flagged, a bare relay's loss is not.
func TestRecordFlagsLoss(t *testing.T) {
	s := &suite{log: slog.New(slog.DiscardHandler)}
	s.record(&run{Scenario: scE2E200, Database: "postgres", Round: 2, Result: &benchOut{Lost: 1}})
	e2e := &benchOut{EndToEnd: &benchE2E{Duplicated: 2}}
	s.record(&run{Scenario: scE2E200, Database: "postgres", Round: 3, Result: e2e})
	s.record(&run{Scenario: scE2E200, Database: "postgres", Round: 3, Bare: true, Result: &benchOut{Lost: 5}})
	if len(s.flagged) != 2 || !strings.Contains(s.flagged[0], "round 2: 1 acknowledged messages LOST") ||
		!strings.Contains(s.flagged[1], "2 DUPLICATED") {
		t.Errorf("flagged: %q", s.flagged)
	}
	res := s.collect(machine{}, time.Second, nil)
	if res.Totals.Lost != 1 || res.Totals.Duplicated != 2 || res.Totals.BareRelayLost != 5 {
		t.Errorf("totals: %+v", res.Totals)
	}
	if md := res.markdown(nil); !strings.Contains(md, "**⚠ e2e-200 on postgres, round 2") {
		t.Errorf("the doc does not flag the loss:\n%s", md)
	}
}

// TestMicroPairs: each hot path is paired with its own baseline, from the
// run that measured each, in µs, with the median's ratio; a path none of
// whose benchmarks ran is left out of the table.
func TestMicroPairs(t *testing.T) {
	s := &suite{goRuns: map[string][]goBench{
		goMicro: parseGoBench(`BenchmarkAPIKeyCheck/baseline-2   1000   300 ns/op
BenchmarkAPIKeyCheck/hub-2   1000   600 ns/op
BenchmarkAPIKeyCheck/baseline-2   1000   200 ns/op
BenchmarkAPIKeyCheck/hub-2   1000   500 ns/op
BenchmarkAPIKeyCheck/baseline-2   1000   250 ns/op
BenchmarkAPIKeyCheck/hub-2   1000   700 ns/op
BenchmarkInProcess-2   1000   3000 ns/op`),
		goRoundTrip: parseGoBench(`BenchmarkRoundTrip-2   100   150000 ns/op
BenchmarkRoundTripParallel-2   100   30000 ns/op`),
	}}
	pairs := map[string]microPair{}
	for _, p := range s.micro() {
		pairs[p.Path] = p
	}
	key := pairs["API-key check (cached integration, header, SHA-256, compare)"]
	if key.Hub != (stat{N: 3, Median: 0.6, Min: 0.5, Max: 0.7}) || key.Baseline.Median != 0.25 {
		t.Errorf("key check: hub %+v baseline %+v", key.Hub, key.Baseline)
	}
	rt := pairs["plugin round trip, one caller"]
	if rt.Hub.Median != 150 || rt.Baseline.Median != 3 {
		t.Errorf("round trip beside in process: %+v %+v", rt.Hub, rt.Baseline)
	}
	if _, ok := pairs["template render (URL placeholder, nested body)"]; ok || len(pairs) != 2 {
		t.Errorf("paths without runs are listed: %v", pairs)
	}
	table := microTable(s.micro())
	for _, want := range []string{"| 0.60 µs [0.50–0.70] | 0.25 µs [0.20–0.30] |", "| 2.40× |", "| 50.0× |"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
}
