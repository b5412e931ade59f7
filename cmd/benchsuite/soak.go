package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// soakResult is the flat-memory run: the hub and its plugins' RSS sampled
// while it takes a steady load at half its saturated rate.
type soakResult struct {
	Machine    machine   `json:"machine"`
	Database   string    `json:"database"`
	Rate       float64   `json:"rate"`
	RateSource string    `json:"rateSource"`
	Seconds    float64   `json:"seconds"`
	SampledAt  []float64 `json:"sampledAtSeconds"`
	RSSMiB     []float64 `json:"rssMiB"`
	StartMiB   float64   `json:"startMiB"`
	MaxMiB     float64   `json:"maxMiB"`
	EndMiB     float64   `json:"endMiB"`
	// Slope is the least-squares slope over the whole run, SlopeLate over
	// its second half, in MiB a minute.
	Slope     float64   `json:"slopeMiBPerMinute"`
	SlopeLate float64   `json:"slopeSecondHalfMiBPerMinute"`
	Flat      bool      `json:"flat"`
	Command   string    `json:"command"`
	Bench     *benchOut `json:"bench"`
}

const soakEvery = 10 * time.Second

// soak runs the hub for d at rate (0: half the saturated rate), sampling
// its process tree's RSS every 10 s, and writes the figures between the
// soak markers.
func (s *suite) soak(ctx context.Context, p *progress, d time.Duration, rate float64) error {
	defer s.stop()
	p.setPlan([]time.Duration{15 * time.Second, 20 * time.Second, d + d/10})
	p.begin(1, "soak: the hub on a fresh database, idle")
	if err := s.start(ctx, false); err != nil {
		p.finish()
		return err
	}
	env := s.dbs[0]
	pgURL := ""
	if s.pg != nil {
		pgURL = s.pg.url
	}
	m, err := describeMachine(ctx, pgURL)
	if err != nil {
		p.finish()
		return err
	}
	if env.token, err = s.createToken(ctx, env.url); err == nil {
		env.hub, err = s.startHub(ctx, "hub-"+env.name, env.url)
	}
	if err == nil {
		err = s.idle(ctx, env)
	}
	if err != nil {
		p.finish()
		return err
	}

	p.begin(2, "soak: the saturated rate, halved")
	res := &soakResult{Machine: m, Database: env.title, Rate: rate, RateSource: "given with -soak-rate"}
	if rate <= 0 {
		res.Rate, res.RateSource, err = s.soakRate(ctx, env)
		if err != nil {
			p.finish()
			return err
		}
	}
	rateArg := strconv.FormatFloat(math.Round(res.Rate), 'f', 0, 64)

	p.begin(3, fmt.Sprintf("soak: %s at %s msg/s, RSS every %s", d, rateArg, soakEvery))
	type outcome struct {
		r   *run
		err error
	}
	done := make(chan outcome, 1)
	began := time.Now()
	go func() {
		r, err := s.runBench(ctx, benchTarget{names: []string{"$HUB"}, urls: []string{env.hub.url}, token: env.token}, d,
			"--rate", rateArg, "--connections", "64", "--duration", d.String())
		done <- outcome{r, err}
	}()
	sample := func() error {
		rss, _, err := s.proc.rss(env.hub.pid())
		if err != nil {
			return err
		}
		res.SampledAt = append(res.SampledAt, time.Since(began).Seconds())
		res.RSSMiB = append(res.RSSMiB, float64(rss)/(1<<20))
		return nil
	}
	if err := sample(); err != nil {
		p.finish()
		return err
	}
	tick := time.NewTicker(soakEvery)
	defer tick.Stop()
	var out outcome
wait:
	for {
		select {
		case <-tick.C:
			// Only while sending: the verification afterwards is not the load.
			if time.Since(began) <= d {
				if err := sample(); err != nil {
					p.finish()
					return err
				}
			}
		case out = <-done:
			break wait
		}
	}
	p.finish()
	if out.err != nil {
		return out.err
	}
	res.Command, res.Bench, res.Seconds = out.r.Command, out.r.Result, d.Seconds()
	res.summarize()

	jsonPath := filepath.Join(filepath.Dir(s.opts.jsonPath), "bench-soak.json")
	if err := writeJSON(jsonPath, res); err != nil {
		return err
	}
	block := res.markdown()
	fmt.Println(block)
	if s.opts.docPath != "" {
		if err := soakMarkers.replaceInFile(s.opts.docPath, block); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "benchsuite: wrote %s and %s\n", s.opts.docPath, jsonPath)
	}
	if lost, dup := res.Bench.lostOrDuplicated(); lost > 0 || dup > 0 {
		return fmt.Errorf("the soak LOST %d and DUPLICATED %d acknowledged messages", lost, dup)
	}
	return nil
}

// soakRate is half the saturated ingest rate: the median of the last
// suite's runs on this database if its results are at hand, else measured
// now with three short closed-loop runs.
func (s *suite) soakRate(ctx context.Context, env *dbEnv) (float64, string, error) {
	if b, err := os.ReadFile(s.opts.jsonPath); err == nil {
		var last results
		if json.Unmarshal(b, &last) == nil {
			for _, f := range last.Figures {
				if c := f.Cells[env.name]; f.Key == "ingest-rate" && c != nil && c.Value.ok() {
					return c.Value.Median / 2, fmt.Sprintf("half the median saturated rate, %s msg/s, of `make bench` on %s (%s)",
						fmtCount(c.Value.Median), last.Machine.Date, s.opts.jsonPath), nil
				}
			}
		}
	}
	var rates []float64
	for range 3 {
		r, err := s.runBench(ctx, benchTarget{names: []string{"$HUB"}, urls: []string{env.hub.url}, token: env.token}, 5*time.Second,
			"--connections", "64", "--duration", "5s")
		if err != nil {
			return 0, "", err
		}
		rates = append(rates, r.Result.PerSecond)
	}
	med := summarize(rates).Median
	if med <= 0 {
		return 0, "", errors.New("benchsuite: soak: the saturated rate measured 0")
	}
	return med / 2, fmt.Sprintf("half the median saturated rate, %s msg/s, of three 5 s closed-loop runs just before", fmtCount(med)), nil
}

// summarize fills in start, max, end and the slopes, and judges the run
// flat when its second half grew by less than 5% of the start.
func (r *soakResult) summarize() {
	if len(r.RSSMiB) == 0 {
		return
	}
	r.StartMiB, r.EndMiB = r.RSSMiB[0], r.RSSMiB[len(r.RSSMiB)-1]
	for _, v := range r.RSSMiB {
		r.MaxMiB = max(r.MaxMiB, v)
	}
	minutes := make([]float64, len(r.SampledAt))
	for i, t := range r.SampledAt {
		minutes[i] = t / 60
	}
	r.Slope = slope(minutes, r.RSSMiB)
	half := len(minutes) / 2
	r.SlopeLate = slope(minutes[half:], r.RSSMiB[half:])
	if !math.IsNaN(r.SlopeLate) && len(minutes) > 1 {
		lateMinutes := minutes[len(minutes)-1] - minutes[half]
		r.Flat = r.SlopeLate*lateMinutes < 0.05*r.StartMiB
	}
	if math.IsNaN(r.Slope) {
		r.Slope = 0
	}
	if math.IsNaN(r.SlopeLate) {
		r.SlopeLate = 0
	}
}

func (r *soakResult) markdown() string {
	var b strings.Builder
	m := r.Machine
	flat := "**not flat**"
	if r.Flat {
		flat = "flat"
	}
	fmt.Fprintf(&b, "**Soak (`make soak`)** on %s, commit `%s`: the hub on %s for %s at a steady %s msg/s (%s), 64 connections, "+
		"on the machine above. The RSS of the hub and all its plugins, summed over its process tree every %s while it sent: "+
		"start %s MiB, max %s MiB, end %s MiB; slope %s MiB a minute over the run, %s MiB a minute over its second half: %s "+
		"(flat: the second half grows by less than 5%% of the start).",
		m.Date, m.Commit, r.Database, time.Duration(r.Seconds*float64(time.Second)), fmtCount(r.Rate), r.RateSource, soakEvery,
		fmtNum(r.StartMiB, 1), fmtNum(r.MaxMiB, 1), fmtNum(r.EndMiB, 1), fmtNum(r.Slope, 2), fmtNum(r.SlopeLate, 2), flat)
	if o := r.Bench; o != nil {
		lost, dup := o.lostOrDuplicated()
		fmt.Fprintf(&b, " %s messages acknowledged, %s lost, %s duplicated; p50 %s ms, p99 %s ms.",
			fmtCount(float64(o.Acknowledged)), fmtCount(float64(lost)), fmtCount(float64(dup)), fmtNum(o.P50Ms, 2), fmtNum(o.P99Ms, 2))
		if o.Missed > 0 {
			fmt.Fprintf(&b, " %s sends fell over a second behind and were dropped.", fmtCount(float64(o.Missed)))
		}
	}
	b.WriteString("\n\nRSS each minute (MiB): ")
	var per []string
	next := 0.0
	for i, t := range r.SampledAt {
		if t >= next {
			per = append(per, fmtNum(r.RSSMiB[i], 0))
			next += 60
		}
	}
	b.WriteString(strings.Join(per, " · ") + ".\n\n```sh\nmake soak    # or: go run ./cmd/benchsuite -soak -soak-rate N -soak-for 10m\n" +
		"# which runs, against a hub started as for make bench:\n" + r.Command + "\n```\n")
	return b.String()
}
