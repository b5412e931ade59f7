package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// benchOut is what `switchboard bench --json` prints.
type benchOut struct {
	Bare         bool        `json:"bare"`
	Hubs         int         `json:"hubs"`
	Connections  int         `json:"connections"`
	Rate         float64     `json:"rate"`
	Missed       int         `json:"missed"`
	DurationSec  float64     `json:"durationSeconds"`
	Sent         int         `json:"sent"`
	Acknowledged int         `json:"acknowledged"`
	Failed       int         `json:"failed"`
	PerSecond    float64     `json:"messagesPerSecond"`
	P50Ms        float64     `json:"p50Ms"`
	P90Ms        float64     `json:"p90Ms"`
	P99Ms        float64     `json:"p99Ms"`
	MaxMs        float64     `json:"maxMs"`
	Verified     bool        `json:"verified"`
	Stored       int         `json:"stored"`
	Lost         int         `json:"lost"`
	Duplicated   int         `json:"duplicated"`
	FirstError   string      `json:"firstError"`
	EndToEnd     *benchE2E   `json:"endToEnd"`
	Drain        *benchDrain `json:"drain"`
}

// benchE2E is the end-to-end part of `switchboard bench --json`.
type benchE2E struct {
	Arrived    int     `json:"arrived"`
	Lost       int     `json:"lost"`
	Duplicated int     `json:"duplicated"`
	P50Ms      float64 `json:"p50Ms"`
	P95Ms      float64 `json:"p95Ms"`
	P99Ms      float64 `json:"p99Ms"`
	MaxMs      float64 `json:"maxMs"`
}

// benchDrain is the delivery drain's part.
type benchDrain struct {
	Queued    int     `json:"queued"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"deliveriesPerSecond"`
}

// lostOrDuplicated is what a hub run must never have: acknowledged
// messages missing from storage or from the receiver, or there twice.
func (b *benchOut) lostOrDuplicated() (lost, dup int) {
	lost, dup = b.Lost, b.Duplicated
	if e := b.EndToEnd; e != nil {
		lost += e.Lost
		dup += e.Duplicated
	}
	return lost, dup
}

// run is one measurement: one `switchboard bench` against a hub or a bare
// server, with what the suite measured beside it.
type run struct {
	Scenario string `json:"scenario"`
	Database string `json:"database,omitempty"`
	Round    int    `json:"round"`
	Bare     bool   `json:"bare,omitempty"`
	// Command reproduces the run, with $HUB, $BARE and $TOKEN for what
	// differs from one run to the next.
	Command string    `json:"command"`
	Result  *benchOut `json:"result,omitempty"`
	// CPU is the hub's process tree's CPU time over a window inside the
	// sending phase, and per message at the run's rate.
	CPUSeconds      float64 `json:"cpuSeconds,omitempty"`
	CPUWindowSec    float64 `json:"cpuWindowSeconds,omitempty"`
	CPUPerMessageMs float64 `json:"cpuPerMessageMs,omitempty"`
	Error           string  `json:"error,omitempty"`
}

// benchTarget is what one bench run loads: hubs (with a token) or bare
// servers, by placeholder name and URL.
type benchTarget struct {
	bare  bool
	names []string // "$HUB", "$HUB2" or "$BARE", "$BARE2"
	urls  []string
	token string
	// cpuOf, when set, is the pid whose process tree's CPU is sampled.
	cpuOf int
}

// runBench runs `switchboard bench --json` with flags against t. With
// cpuOf set, it samples that process tree's CPU time from 1 s into the run
// until half a second before its sending ends, leaving out the setup and
// the verification after it.
func (s *suite) runBench(ctx context.Context, t benchTarget, sendFor time.Duration, flags ...string) (*run, error) {
	args := []string{"bench", "--json", "--url", strings.Join(t.urls, ",")}
	shown := []string{"bin/switchboard", "bench", "--url", strings.Join(t.names, ",")}
	if t.bare {
		args = append(args, "--bare")
		shown = append(shown, "--bare")
	} else {
		shown = append(shown, "--token", "$TOKEN")
	}
	args = append(args, flags...)
	shown = append(shown, flags...)
	r := &run{Bare: t.bare, Command: shellJoin(shown)}

	cmd := exec.CommandContext(ctx, s.bin, args...)
	// The token goes by environment, never on a command line others can
	// list or into a log.
	cmd.Env = os.Environ()
	if !t.bare {
		cmd.Env = append(cmd.Env, "SWITCHBOARD_TOKEN="+t.token)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("benchsuite: bench: %w", err)
	}
	type sample struct {
		at  time.Time
		cpu float64
		err error
	}
	var samples chan [2]sample
	if t.cpuOf != 0 && sendFor > 2*time.Second {
		samples = make(chan [2]sample, 1)
		go func() {
			var got [2]sample
			for i, at := range []time.Time{start.Add(time.Second), start.Add(sendFor - 500*time.Millisecond)} {
				time.Sleep(time.Until(at))
				got[i].at = time.Now()
				got[i].cpu, got[i].err = s.proc.cpuSeconds(t.cpuOf)
			}
			samples <- got
		}()
	}
	err := cmd.Wait()
	if stderr.Len() > 0 {
		s.appendLog("bench.log", r.Command+"\n"+stderr.String())
	}
	if err != nil {
		return r, fmt.Errorf("benchsuite: %s: %w: %s", r.Command, err, strings.TrimSpace(stderr.String()))
	}
	var out benchOut
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return r, fmt.Errorf("benchsuite: %s: read its JSON: %w", r.Command, err)
	}
	r.Result = &out
	if samples != nil {
		got := <-samples
		if got[0].err != nil || got[1].err != nil {
			return r, fmt.Errorf("benchsuite: CPU of process %d: %v %v", t.cpuOf, got[0].err, got[1].err)
		}
		r.CPUSeconds = got[1].cpu - got[0].cpu
		r.CPUWindowSec = got[1].at.Sub(got[0].at).Seconds()
		if msgs := out.PerSecond * r.CPUWindowSec; msgs > 0 {
			r.CPUPerMessageMs = 1000 * r.CPUSeconds / msgs
		}
	}
	return r, nil
}
