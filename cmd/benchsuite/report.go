package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"
)

// results is everything a suite run measured, as written to the JSON file.
type results struct {
	Machine  machine              `json:"machine"`
	Quick    bool                 `json:"quick"`
	Runs     int                  `json:"runsPerScenario"`
	Seconds  float64              `json:"seconds"`
	Figures  []figure             `json:"figures"`
	Micro    []microPair          `json:"micro"`
	Totals   totals               `json:"totals"`
	Flagged  []string             `json:"flagged,omitempty"`
	Repeated []string             `json:"repeated,omitempty"`
	Errors   []string             `json:"errors,omitempty"`
	Bench    []*run               `json:"benchRuns"`
	GoBench  map[string][]goBench `json:"goBench"`
	Commands map[string][]string  `json:"commands"`
}

// totals sums the exactly-once checks over every hub run.
type totals struct {
	HubRuns      int `json:"hubRuns"`
	Acknowledged int `json:"acknowledged"`
	Lost         int `json:"lost"`
	Duplicated   int `json:"duplicated"`
	Failed       int `json:"failedRequests"`
	// Missed counts open-loop sends that fell over a second behind.
	Missed int `json:"missed"`
	// BareRelayLost counts what bare relays (which retry nothing) lost.
	BareRelayLost int `json:"bareRelayLost"`
}

func (s *suite) collect(m machine, elapsed time.Duration, errs []string) *results {
	figs, micro := s.figures(), s.micro()
	s.mu.Lock()
	defer s.mu.Unlock()
	res := &results{Machine: m, Quick: s.opts.quick, Runs: s.opts.runs, Seconds: elapsed.Seconds(), Figures: figs, Micro: micro,
		Flagged: s.flagged, Repeated: s.repeated, Errors: errs, Bench: s.runs, GoBench: s.goRuns, Commands: map[string][]string{}}
	for _, r := range s.runs {
		if !seen(res.Commands[r.Scenario], r.Command) {
			res.Commands[r.Scenario] = append(res.Commands[r.Scenario], r.Command)
		}
		if r.Result == nil {
			continue
		}
		lost, dup := r.Result.lostOrDuplicated()
		if r.Bare {
			res.Totals.BareRelayLost += lost
			continue
		}
		res.Totals.HubRuns++
		res.Totals.Acknowledged += r.Result.Acknowledged
		res.Totals.Lost += lost
		res.Totals.Duplicated += dup
		res.Totals.Failed += r.Result.Failed
		res.Totals.Missed += r.Result.Missed
	}
	for k, c := range s.goCmds {
		res.Commands[k] = []string{c}
	}
	return res
}

func seen(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("benchsuite: results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("benchsuite: write %s: %w", path, err)
	}
	return nil
}

// fmtCount writes a count with thousands separators: 12,345.
func fmtCount(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	neg := x < 0
	digits := fmt.Sprintf("%.0f", math.Abs(x))
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtNum writes x with at most the given decimals, fewer for large values.
func fmtNum(x float64, decimals int) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case math.Abs(x) >= 100:
		return fmtCount(x)
	case math.Abs(x) >= 10 && decimals > 1:
		decimals = 1
	}
	return fmt.Sprintf("%.*f", decimals, x)
}

// fmtValue writes one figure in its unit, without the unit for spreads.
func fmtValue(x float64, unit string) string {
	switch unit {
	case "msg/s", "/s":
		return fmtCount(x)
	case "×":
		return fmtNum(x, 2)
	case "MiB":
		return fmtNum(x, 0)
	default:
		return fmtNum(x, 2)
	}
}

func unitSuffix(unit string) string {
	switch unit {
	case "×":
		return "×"
	case "/s":
		return unit
	default:
		return " " + unit
	}
}

// fmtStat writes "median unit [min–max]", the spread when there are
// several runs.
func fmtStat(st stat, unit string) string {
	if !st.ok() {
		return "—"
	}
	s := fmtValue(st.Median, unit) + unitSuffix(unit)
	if st.N > 1 {
		s += " [" + fmtValue(st.Min, unit) + "–" + fmtValue(st.Max, unit) + "]"
	}
	return s
}

// fmtRatio writes a ratio: a percentage of a rate, a multiple of a latency.
func fmtRatio(st *stat, unit string) string {
	if st == nil || !st.ok() {
		return "—"
	}
	if unit == "msg/s" || unit == "/s" {
		return fmt.Sprintf("%.0f%%", 100*st.Median)
	}
	return fmtNum(st.Median, 2) + "×"
}

func fmtMet(m *bool) string {
	switch {
	case m == nil:
		return "—"
	case *m:
		return "met"
	default:
		return "**not met**"
	}
}

// joinCells writes one column's value for each database, " · " between.
func joinCells(envs []*dbEnv, f func(*dbEnv) string) string {
	var parts []string
	for _, env := range envs {
		parts = append(parts, f(env))
	}
	return strings.Join(parts, " · ")
}

// markdown is the block the suite writes between the bench markers.
func (res *results) markdown(envs []*dbEnv) string {
	var b strings.Builder
	m := res.Machine
	dirty := ""
	if m.Dirty {
		dirty = ", with uncommitted changes"
	}
	fmt.Fprintf(&b, "**Measured by `make bench`** on %s, commit `%s` of %s%s; the suite took %s.\n",
		m.Date, m.Commit, m.CommitDate, dirty, time.Duration(res.Seconds*float64(time.Second)).Round(time.Second))
	dbs := []string{"SQLite " + m.SQLite + " (the pure-Go driver, in the hub)"}
	if m.Postgres != "" {
		dbs = append(dbs, m.Postgres+" started by `.ci/start-postgres` as CI starts it (fsync on)")
	}
	fmt.Fprintf(&b, "The machine: %s, %d cores, %s GiB of memory, %s; %s; %s. The hub, its plugins, the database, "+
		"the load generator and the bare server all share it.",
		m.CPU, m.Cores, fmtNum(float64(m.MemoryMiB)/1024, 1), m.Kernel, m.Go, strings.Join(dbs, ", "))
	if m.LoadBefore != "" && m.LoadAfter != "" {
		fmt.Fprintf(&b, " Its 1-minute load average was %s when the suite began and %s when it ended.", m.LoadBefore, m.LoadAfter)
	}
	b.WriteString("\n\n")
	if res.Quick {
		b.WriteString("*A quick smoke run (`-quick`): one short run of each, not figures to quote.*\n\n")
	}
	runs := fmt.Sprintf("the median of %d runs, with their spread [lowest–highest]", res.Runs)
	if res.Runs == 1 {
		runs = "from a single run"
	}
	fmt.Fprintf(&b, "Each figure is %s. *Bare HTTP* is the ceiling "+
		"beside it: a bare Go `net/http` server in a process of its own (`switchboard bench-bare-server`), loaded by the same "+
		"`switchboard bench --bare` with the same bodies, in the same round as the hub's run (the two take turns going first). "+
		"For end to end and the drain, the bare server relays each body to the bench's receiver after answering it, 64 relays "+
		"at a time and nothing stored: the bare relay. A ratio is the median of each round's hub ÷ bare.\n\n", runs)

	// The targets on each database.
	b.WriteString("| target |")
	for _, env := range envs {
		b.WriteString(" " + env.title + " |")
	}
	fmt.Fprintf(&b, " bare HTTP (%s) | ratio | |\n|---|", joinCells(envs, func(e *dbEnv) string { return e.title + " round" }))
	for range envs {
		b.WriteString("---|")
	}
	b.WriteString("---|---|---|\n")
	for _, f := range res.Figures {
		if f.NoDatabase || len(f.Cells) == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s |", f.Target)
		for _, env := range envs {
			c := f.Cells[env.name]
			if c == nil {
				b.WriteString(" — |")
				continue
			}
			v := fmtStat(c.Value, f.Unit)
			if c.Note != "" {
				v += " (" + c.Note + ")"
			}
			b.WriteString(" " + v + " |")
		}
		bare := joinCells(envs, func(e *dbEnv) string {
			if c := f.Cells[e.name]; c != nil && c.Bare != nil {
				return fmtStat(*c.Bare, f.Unit)
			}
			return "—"
		})
		ratio := joinCells(envs, func(e *dbEnv) string {
			if c := f.Cells[e.name]; c != nil {
				return fmtRatio(c.Ratio, f.Unit)
			}
			return "—"
		})
		if f.RatioOf != "" && strings.Trim(ratio, "— ·") != "" {
			ratio += " (" + f.RatioOf + ")"
		}
		metCol := joinCells(envs, func(e *dbEnv) string {
			if c := f.Cells[e.name]; c != nil {
				return fmtMet(c.Met)
			}
			return "—"
		})
		if strings.Trim(bare, "— ·") == "" {
			bare = "—"
		}
		if strings.Trim(ratio, "— ·") == "" {
			ratio = "—"
		}
		fmt.Fprintf(&b, " %s | %s | %s |\n", bare, ratio, metCol)
	}

	// The targets that need no database.
	b.WriteString("\n| without a database (Go benchmarks) | median [spread] | |\n|---|---|---|\n")
	for _, f := range res.Figures {
		if !f.NoDatabase {
			continue
		}
		c := f.Cells[""]
		if c == nil {
			c = &cell{}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", f.Target, fmtStat(c.Value, f.Unit), fmtMet(c.Met))
	}

	b.WriteString(microTable(res.Micro))

	t := res.Totals
	fmt.Fprintf(&b, "\n**Lost and duplicated:** %s lost and %s duplicated over %d hub runs (%s acknowledged messages, "+
		"each looked up in storage through the admin API, and at the receiver when timed end to end).",
		fmtCount(float64(t.Lost)), fmtCount(float64(t.Duplicated)), t.HubRuns, fmtCount(float64(t.Acknowledged)))
	if t.Failed > 0 {
		fmt.Fprintf(&b, " %s requests were answered with an error.", fmtCount(float64(t.Failed)))
	}
	if t.Missed > 0 {
		fmt.Fprintf(&b, " %s open-loop sends fell over a second behind and were dropped (the figures of those runs are lower bounds).", fmtCount(float64(t.Missed)))
	}
	if t.BareRelayLost > 0 {
		fmt.Fprintf(&b, " The bare relay, which keeps and retries nothing, lost %s.", fmtCount(float64(t.BareRelayLost)))
	}
	b.WriteString("\n")
	for _, f := range res.Flagged {
		fmt.Fprintf(&b, "\n**⚠ %s**\n", f)
	}
	if n := len(res.Repeated); n > 0 {
		fmt.Fprintf(&b, "\n%d rounds were run again because a hub or bare server was stopped from outside the suite during them "+
			"(the machine is shared); the interrupted runs are in the raw results, not in the figures: %s.\n", n, strings.Join(res.Repeated, "; "))
	}

	b.WriteString("\n" + res.reproduce(envs))
	return b.String()
}

// reproduce lists the commands behind every figure, in the suite's order.
func (res *results) reproduce(envs []*dbEnv) string {
	var b strings.Builder
	b.WriteString("To reproduce a figure by hand (`make bench` does all of it; `go run ./cmd/benchsuite -h` for its flags):\n\n```sh\n")
	b.WriteString("make build\n")
	b.WriteString("DB=sqlite://$PWD/data/bench.db          # or PostgreSQL: DB=$(.ci/start-postgres /tmp/bench-pg)\n")
	b.WriteString("TOKEN=$(bin/switchboard admin create-token --workspace bench --database-url \"$DB\" | tail -1)\n")
	b.WriteString("bin/switchboard " + shellJoin(hubArgs(`"$DB"`, "127.0.0.1:8080", "127.0.0.1:6060")) + " &   # HUB=http://127.0.0.1:8080\n")
	b.WriteString("bin/switchboard bench-bare-server --addr 127.0.0.1:8090 &   # prints BARE=http://127.0.0.1:8090\n")
	sections := []struct{ key, title string }{
		{scDrainEmpty, "delivery drain (on an empty table, then with the table full: see below)"},
		{scE2E200, "end to end at 200/s"},
		{scE2E1000, "end to end at 1,000/s"},
		{scCPU200, "CPU per message: the hub's and its children's utime+stime (/proc/PID/stat), from 1 s into the run to 0.5 s before its sending ends, over this run and the ingest runs"},
		{scIngest, "ingest"},
	}
	for _, sec := range sections {
		cmds := res.Commands[sec.key]
		if len(cmds) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n# %s\n%s\n", sec.title, strings.Join(sortedBareFirst(cmds), "\n"))
	}
	b.WriteString("\n# the full table: stop the hub, insert finished deliveries (status succeeded), start it, drain again\n")
	b.WriteString("#   (the INSERT … SELECT in cmd/benchsuite/prefill.go)\n")
	b.WriteString("# idle memory: the sum of VmRSS (/proc/PID/status) over the hub and its children, after /readyz and an idle pause\n")
	if cmds := res.Commands[scIngest2]; len(cmds) > 0 {
		b.WriteString("\n# two hubs on one PostgreSQL, two bare servers beside them\n")
		b.WriteString("bin/switchboard " + shellJoin(hubArgs(`"$DB"`, "127.0.0.1:8081", "127.0.0.1:6061")) + " &   # HUB2=http://127.0.0.1:8081\n")
		b.WriteString("bin/switchboard bench-bare-server --addr 127.0.0.1:8091 &   # BARE2\n")
		b.WriteString(strings.Join(sortedBareFirst(cmds), "\n") + "\n")
	}
	for _, k := range []string{goDeliveries, goRoundTrip, goTransform, goMicro} {
		if c := res.Commands[k]; len(c) > 0 {
			if k == goDeliveries {
				b.WriteString("\n# Go benchmarks (the deliveries one once per run)\n")
			}
			b.WriteString(c[0] + "\n")
		}
	}
	b.WriteString("```\n")
	return b.String()
}

func sortedBareFirst(cmds []string) []string {
	out := append([]string(nil), cmds...)
	sort.SliceStable(out, func(i, j int) bool {
		return strings.Contains(out[i], "--bare") && !strings.Contains(out[j], "--bare")
	})
	return out
}
