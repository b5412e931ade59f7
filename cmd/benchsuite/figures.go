package main

import (
	"math"
)

// cell is one figure on one database (or on none): the median and spread
// of the runs, the bare ceiling of the same rounds, their ratio, and
// whether the target is met.
type cell struct {
	Value stat  `json:"value"`
	Bare  *stat `json:"bare,omitempty"`
	Ratio *stat `json:"ratio,omitempty"`
	Met   *bool `json:"met,omitempty"`
	// Note says more in a few words: what the ratio compares, the table size.
	Note string `json:"note,omitempty"`
}

// figure is one line of the targets table.
type figure struct {
	Key    string           `json:"key"`
	Target string           `json:"target"`
	Unit   string           `json:"unit"`
	Cells  map[string]*cell `json:"cells"` // by database; "" for a figure without one
	// RatioOf says what the ratio is, for the table.
	RatioOf string `json:"ratioOf,omitempty"`
	// NoDatabase marks a figure measured without one.
	NoDatabase bool `json:"noDatabase,omitempty"`
}

// pick collects a figure of each run of a scenario on a database, by round.
func (s *suite) pick(scenario, db string, bare bool, f func(*run) float64) map[int]float64 {
	out := map[int]float64{}
	for _, r := range s.runs {
		if r.Scenario == scenario && r.Database == db && r.Bare == bare && r.Result != nil {
			out[r.Round] = f(r)
		}
	}
	return out
}

func values(m map[int]float64) []float64 {
	v := make([]float64, 0, len(m))
	for _, x := range m {
		v = append(v, x)
	}
	return v
}

// ratios divides a by b round by round, for rounds both have: a hub run
// beside the bare run of the same round.
func ratios(a, b map[int]float64) []float64 {
	var v []float64
	for k, x := range a {
		if y, ok := b[k]; ok && y != 0 && !math.IsNaN(x) && !math.IsNaN(y) {
			v = append(v, x/y)
		}
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// met checks a median against a target; nil when there is no figure.
func met(st stat, ok func(float64) bool) *bool {
	if !st.ok() {
		return nil
	}
	return ptr(ok(st.Median))
}

var (
	atLeast = func(t float64) func(float64) bool { return func(x float64) bool { return x >= t } }
	atMost  = func(t float64) func(float64) bool { return func(x float64) bool { return x <= t } }
	under   = func(t float64) func(float64) bool { return func(x float64) bool { return x < t } }
)

func rate(r *run) float64 { return r.Result.PerSecond }
func p99(r *run) float64  { return r.Result.P99Ms }
func e2e(f func(p50, p99 float64) float64) func(*run) float64 {
	return func(r *run) float64 {
		if e := r.Result.EndToEnd; e != nil && e.Arrived > 0 {
			return f(e.P50Ms, e.P99Ms)
		}
		return math.NaN()
	}
}
func drainRate(r *run) float64 {
	if d := r.Result.Drain; d != nil {
		return d.PerSecond
	}
	return math.NaN()
}
func cpuPerMessage(r *run) float64 {
	if r.CPUPerMessageMs > 0 {
		return r.CPUPerMessageMs
	}
	return math.NaN()
}

// figures turns the runs into the targets table, in the order.
func (s *suite) figures() []figure {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []figure
	// beside is a figure measured beside the bare ceiling: the ratio is the
	// median of each round's hub/bare; target checks the hub's median or,
	// when onRatio, the ratio's.
	beside := func(key, target, unit, ratioOf, scenario string, f func(*run) float64, onRatio bool, ok func(float64) bool, dbs ...string) {
		fg := figure{Key: key, Target: target, Unit: unit, RatioOf: ratioOf, Cells: map[string]*cell{}}
		for _, env := range s.dbs {
			if len(dbs) > 0 && env.name != dbs[0] {
				continue
			}
			hub, bare := s.pick(scenario, env.name, false, f), s.pick(scenario, env.name, true, f)
			c := &cell{Value: summarize(values(hub)), Bare: ptr(summarize(values(bare))), Ratio: ptr(summarize(ratios(hub, bare)))}
			if onRatio {
				c.Met = met(*c.Ratio, ok)
			} else {
				c.Met = met(c.Value, ok)
			}
			if c.Value.ok() {
				fg.Cells[env.name] = c
			}
		}
		out = append(out, fg)
	}
	beside("ingest-rate", "ingest at 64 connections: at least 40% of bare HTTP's rate", "msg/s", "hub ÷ bare",
		scIngest, rate, true, atLeast(0.40))
	beside("ingest-p99", "ingest at 64 connections: p99 at most 2× bare HTTP's", "ms", "hub ÷ bare",
		scIngest, p99, true, atMost(2))
	beside("e2e-200-p50", "end to end at 200 msg/s: p50 under 20 ms", "ms", "hub ÷ bare relay",
		scE2E200, e2e(func(p50, _ float64) float64 { return p50 }), false, under(20))
	beside("e2e-200-p99", "end to end at 200 msg/s: p99 under 100 ms", "ms", "hub ÷ bare relay",
		scE2E200, e2e(func(_, p99 float64) float64 { return p99 }), false, under(100))
	beside("e2e-1000-p99", "end to end at 1,000 msg/s: p99 under 250 ms", "ms", "hub ÷ bare relay",
		scE2E1000, e2e(func(_, p99 float64) float64 { return p99 }), false, under(250))
	beside("drain-empty", "delivery drain, signed, empty table: at least 5,000/s", "/s", "hub ÷ bare relay",
		scDrainEmpty, drainRate, false, atLeast(5000))
	beside("drain-full", "delivery drain with the table full of finished deliveries: at least 5,000/s", "/s", "hub ÷ bare relay",
		scDrainFull, drainRate, false, atLeast(5000))

	// Independent of the table's size: the full table's median drain over
	// the empty table's, at least 0.8 (runs on this machine vary by about
	// ±20%). Medians, not round by round: a round's two drains are minutes
	// apart, not side by side.
	indep := figure{Key: "drain-independence", Target: "delivery drain independent of the table's size: full ÷ empty at least 0.8", Unit: "×", Cells: map[string]*cell{}}
	for _, env := range s.dbs {
		full := summarize(values(s.pick(scDrainFull, env.name, false, drainRate)))
		empty := summarize(values(s.pick(scDrainEmpty, env.name, false, drainRate)))
		if !full.ok() || !empty.ok() || empty.Median == 0 {
			continue
		}
		r := full.Median / empty.Median
		c := &cell{Value: stat{N: 1, Median: r, Min: r, Max: r}}
		c.Met = met(c.Value, atLeast(0.8))
		c.Note = "medians"
		if env.prefilled > 0 {
			c.Note = "medians; " + fmtCount(float64(env.prefilled)) + " rows in the full table"
		}
		indep.Cells[env.name] = c
	}
	out = append(out, indep)

	// Deliveries to an integration's target, from BenchmarkTargetDeliveries.
	deliv := s.goRuns[goDeliveries]
	for _, v := range []struct{ variant, target string }{
		{"templates", "deliveries to a target with templates (BenchmarkTargetDeliveries): at least 5,000/s"},
		{"transform", "the same with a transform: at least half of 5,000/s"},
	} {
		fg := figure{Key: "target-" + v.variant, Target: v.target, Unit: "/s", Cells: map[string]*cell{}}
		if v.variant == "transform" {
			fg.RatioOf = "transform ÷ templates"
		}
		for _, env := range s.dbs {
			vals := metric(deliv, "BenchmarkTargetDeliveries/"+env.name+"/"+v.variant, "deliveries/s")
			c := &cell{Value: summarize(vals)}
			threshold := 5000.0
			if v.variant == "transform" {
				threshold = 2500
				plain := metric(deliv, "BenchmarkTargetDeliveries/"+env.name+"/templates", "deliveries/s")
				var rs []float64
				for i := range min(len(vals), len(plain)) {
					rs = append(rs, vals[i]/plain[i])
				}
				c.Ratio = ptr(summarize(rs))
			}
			c.Met = met(c.Value, atLeast(threshold))
			if c.Value.ok() {
				fg.Cells[env.name] = c
			}
		}
		out = append(out, fg)
	}

	// CPU per message at a steady 200/s against at saturation (the ingest
	// runs), round by round.
	cpu := figure{Key: "cpu-ratio", Target: "CPU per message at a steady 200 msg/s: at most 2× that at saturation", Unit: "×", Cells: map[string]*cell{}}
	for _, env := range s.dbs {
		steady, saturated := s.pick(scCPU200, env.name, false, cpuPerMessage), s.pick(scIngest, env.name, false, cpuPerMessage)
		c := &cell{Value: summarize(ratios(steady, saturated))}
		c.Met = met(c.Value, atMost(2))
		if st, sat := summarize(values(steady)), summarize(values(saturated)); st.ok() && sat.ok() {
			c.Note = fmtNum(st.Median, 2) + " ms against " + fmtNum(sat.Median, 2) + " ms"
		}
		if c.Value.ok() {
			cpu.Cells[env.name] = c
		}
	}
	out = append(out, cpu)

	rss := figure{Key: "idle-rss", Target: "memory: the hub with all its plugins idle, under 150 MB (143 MiB) RSS", Unit: "MiB", Cells: map[string]*cell{}}
	for _, env := range s.dbs {
		c := &cell{Value: summarize(env.idleRSS)}
		c.Met = met(c.Value, under(150e6/(1<<20)))
		if env.processes > 0 {
			c.Note = fmtCount(float64(env.processes)) + " processes"
		}
		if c.Value.ok() {
			rss.Cells[env.name] = c
		}
	}
	out = append(out, rss)

	beside("ingest-2hubs-rate", "ingest on two hubs sharing PostgreSQL, 64 connections: at least 40% of two bare servers' rate", "msg/s", "hubs ÷ bare",
		scIngest2, rate, true, atLeast(0.40), "postgres")
	beside("ingest-2hubs-p99", "ingest on two hubs: p99 at most 2× two bare servers'", "ms", "hubs ÷ bare",
		scIngest2, p99, true, atMost(2), "postgres")

	// Without a database: the Go benchmarks' ns/op, in µs.
	rt := s.goRuns[goRoundTrip]
	for _, b := range []struct{ key, name, target string }{
		{"roundtrip", "BenchmarkRoundTrip", "plugin round trip alone: under 60 µs"},
		{"roundtrip-parallel", "BenchmarkRoundTripParallel", "plugin round trip, 16 callers: under 20 µs a request"},
		{"roundtrip-batch", "BenchmarkRoundTripBatch16", "plugin round trip, 16 requests a call: under 20 µs a request"},
		{"transform", "BenchmarkTransform", "a transform through the sandbox (BenchmarkTransform): 15 µs"},
	} {
		src, limit := rt, 20.0
		switch b.key {
		case "roundtrip":
			limit = 60
		case "transform":
			src, limit = s.goRuns[goTransform], 15
		}
		var us []float64
		for _, ns := range metric(src, b.name, "ns/op") {
			us = append(us, ns/1000)
		}
		c := &cell{Value: summarize(us)}
		if b.key == "transform" {
			c.Met = met(c.Value, atMost(limit))
		} else {
			c.Met = met(c.Value, under(limit))
		}
		fg := figure{Key: b.key, Target: b.target, Unit: "µs", Cells: map[string]*cell{}, NoDatabase: true}
		if c.Value.ok() {
			fg.Cells[""] = c
		}
		out = append(out, fg)
	}
	return out
}
