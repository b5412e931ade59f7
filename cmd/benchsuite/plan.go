package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The scenarios, by the key their runs carry.
const (
	scDrainEmpty = "drain-empty"
	scDrainFull  = "drain-full"
	scE2E200     = "e2e-200"
	scE2E1000    = "e2e-1000"
	scCPU200     = "cpu-200"
	scIngest     = "ingest"
	scIngest2    = "ingest-2hubs"

	goDeliveries = "deliveries"
	goRoundTrip  = "roundtrip"
	goTransform  = "transform"
	goMicro      = "micro"
)

// plan lists every step in order. Per database: a hub on a fresh database,
// measured idle; the drain on an empty table; a restart (idle again); end
// to end at 200 and 1,000 messages/s; the steady 200/s run whose CPU is
// compared with the saturated ingest that follows; then, the hub stopped,
// the table filled with finished deliveries and the drain again; on
// PostgreSQL, two hubs. Each bare run goes beside its hub run. Last, the
// Go benchmarks, PostgreSQL still up.
func (s *suite) plan() []step {
	o := s.opts
	var steps []step
	add := func(name string, estimate time.Duration, fn func(context.Context) error) {
		steps = append(steps, step{name: name, estimate: estimate, fn: fn})
	}
	rounds := func(env *dbEnv, label, scenario string, withBare, twoHubs bool, sendFor, estimate time.Duration, flags ...string) {
		for k := 1; k <= o.runs; k++ {
			add(fmt.Sprintf("%s: %s, round %d of %d", env.title, label, k, o.runs), estimate, func(ctx context.Context) error {
				return s.round(ctx, scenario, env, k, withBare, twoHubs, sendFor, flags...)
			})
		}
	}
	drainFlags := []string{"--drain", strconv.Itoa(o.drain), "--connections", "32", "--conversations", "64"}
	drainEst := 4*time.Second + time.Duration(o.drain)*time.Second/1500
	hubStart := o.idleFor + 4*time.Second

	for _, env := range s.dbs {
		add(env.title+": the hub on a fresh database, idle", hubStart, func(ctx context.Context) error {
			var err error
			if env.token, err = s.createToken(ctx, env.url); err != nil {
				return err
			}
			if env.hub, err = s.startHub(ctx, "hub-"+env.name, env.url); err != nil {
				return err
			}
			return s.idle(ctx, env)
		})
		rounds(env, fmt.Sprintf("drain of %d, empty table", o.drain), scDrainEmpty, true, false, 0, drainEst, drainFlags...)
		add(env.title+": the hub restarted, idle", hubStart, func(ctx context.Context) error { return s.restartHub(ctx, env, nil) })
		rounds(env, "end to end at 200/s", scE2E200, true, false, o.e2eFor, 2*o.e2eFor+3*time.Second,
			"--rate", "200", "--connections", "16", "--duration", seconds(o.e2eFor), "--e2e")
		rounds(env, "end to end at 1,000/s", scE2E1000, true, false, o.e2eFor, 2*o.e2eFor+4*time.Second,
			"--rate", "1000", "--connections", "64", "--duration", seconds(o.e2eFor), "--e2e")
		rounds(env, "CPU at a steady 200/s", scCPU200, false, false, o.cpuFor, o.cpuFor+2*time.Second,
			"--rate", "200", "--connections", "16", "--duration", seconds(o.cpuFor))
		rounds(env, "ingest, 64 connections", scIngest, true, false, o.ingestFor, 2*o.ingestFor+4*time.Second,
			"--connections", "64", "--duration", seconds(o.ingestFor))
		add(fmt.Sprintf("%s: the hub stopped, %d finished deliveries inserted, started, idle", env.title, o.prefill),
			hubStart+time.Duration(o.prefill)*time.Second/25000, func(ctx context.Context) error {
				return s.restartHub(ctx, env, func(ctx context.Context) error {
					if err := prefillDeliveries(ctx, env.url, o.prefill); err != nil {
						return err
					}
					n, err := countDeliveries(ctx, env.url)
					env.prefilled = n
					return err
				})
			})
		rounds(env, fmt.Sprintf("drain of %d, full table", o.drain), scDrainFull, true, false, 0, drainEst, drainFlags...)
		if env.name == "postgres" {
			add(env.title+": a second hub and a second bare server", 5*time.Second, func(ctx context.Context) error {
				var err error
				if env.hub2, err = s.startHub(ctx, "hub2-"+env.name, env.url); err != nil {
					return err
				}
				s.bare2, err = s.startBare(ctx, "bare2")
				return err
			})
			rounds(env, "ingest on two hubs, 64 connections", scIngest2, true, true, o.ingestFor, 2*o.ingestFor+5*time.Second,
				"--connections", "64", "--duration", seconds(o.ingestFor))
		}
		add(env.title+": the hubs stopped", 3*time.Second, func(context.Context) error {
			env.hub.stop()
			env.hub2.stop()
			env.hub, env.hub2 = nil, nil
			s.bare2.stop()
			s.bare2 = nil
			return nil
		})
	}

	// The Go benchmarks: the sandboxed transform at delivery rate, the
	// plugin round trip and the transform alone.
	pgURL := ""
	var sub []string
	for _, env := range s.dbs {
		sub = append(sub, env.name)
		if env.name == "postgres" {
			pgURL = env.url
		}
	}
	deliveries := "TargetDeliveries"
	if len(sub) == 1 {
		deliveries += "/" + sub[0]
	}
	perDelivery := time.Duration(o.goDeliveryN) * time.Second / 500 // queueing and draining, per database
	for k := 1; k <= o.runs; k++ {
		add(fmt.Sprintf("go test: BenchmarkTargetDeliveries (%s), run %d of %d", strings.Join(sub, ", "), k, o.runs),
			time.Duration(len(sub))*perDelivery+10*time.Second, func(ctx context.Context) error {
				return s.goStep(ctx, goDeliveries, pgURL, "-bench", deliveries, "-benchtime", strconv.Itoa(o.goDeliveryN)+"x",
					"-count", "1", "-timeout", "20m", "./core/")
			})
	}
	benchTime, _ := time.ParseDuration(o.goBenchTime)
	add("go test: BenchmarkRoundTrip*", time.Duration(3*o.runs)*(2*benchTime+time.Second)+10*time.Second, func(ctx context.Context) error {
		return s.goStep(ctx, goRoundTrip, "", "-bench", "RoundTrip", "-benchtime", o.goBenchTime, "-count", strconv.Itoa(o.runs), "./core/pluginhost/")
	})
	// Twelve benchmarks of a few microseconds each: half a second apiece is plenty.
	add("go test: the hot paths beside their baselines", time.Duration(12*o.runs)*800*time.Millisecond+20*time.Second, func(ctx context.Context) error {
		return s.goStep(ctx, goMicro, pgURL, microArgs("500ms", o.runs)...)
	})
	add("go test: BenchmarkTransform", time.Duration(o.runs)*(2*benchTime+time.Second)+10*time.Second, func(ctx context.Context) error {
		return s.goStep(ctx, goTransform, "", "-bench", "^BenchmarkTransform$", "-benchtime", o.goBenchTime, "-count", strconv.Itoa(o.runs), "./scripts/")
	})
	return steps
}

// goStep runs one Go benchmark command and keeps its results under key.
func (s *suite) goStep(ctx context.Context, key, pgURL string, args ...string) error {
	shown, res, err := s.runGoBench(ctx, pgURL, args...)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.goRuns[key] = append(s.goRuns[key], res...)
	s.goCmds[key] = shown
	return nil
}
