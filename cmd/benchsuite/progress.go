package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows on stderr which step of the plan runs, how long the suite
// has taken and an estimate of what is left. On a terminal it redraws one
// line in place; elsewhere (a CI log) it prints a line per step. Log lines
// go through it so they do not tear the bar.
type progress struct {
	out   io.Writer
	tty   bool
	start time.Time
	// estimates are each step's expected duration, from the plan.
	estimates []time.Duration

	mu       sync.Mutex
	step     int // 1-based; 0 before the first
	name     string
	done     time.Duration // estimates of the finished steps
	stepFrom time.Time
	drawn    bool
	stop     chan struct{}
	stopped  sync.WaitGroup
}

func newProgress(out *os.File) *progress {
	fi, err := out.Stat()
	p := &progress{out: out, tty: err == nil && fi.Mode()&os.ModeCharDevice != 0, start: time.Now(), stop: make(chan struct{})}
	if p.tty {
		p.stopped.Add(1)
		go func() {
			defer p.stopped.Done()
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					p.mu.Lock()
					p.draw()
					p.mu.Unlock()
				case <-p.stop:
					return
				}
			}
		}()
	}
	return p
}

// setPlan gives each step's expected duration, in order.
func (p *progress) setPlan(estimates []time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.estimates = estimates
}

// begin marks the start of step k (1-based) of the plan.
func (p *progress) begin(k int, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = 0
	for i := 0; i < k-1 && i < len(p.estimates); i++ {
		p.done += p.estimates[i]
	}
	p.step, p.name, p.stepFrom = k, name, time.Now()
	if p.tty {
		p.draw()
		return
	}
	fmt.Fprintf(p.out, "benchsuite: %s\n", p.line())
}

// left estimates the time still needed: the remaining steps' estimates,
// scaled by how the finished ones compared with theirs.
func left(estimates []time.Duration, step int, done, elapsed, inStep time.Duration) time.Duration {
	var rest time.Duration
	for i := max(step-1, 0); i < len(estimates); i++ {
		rest += estimates[i]
	}
	if step > 0 && step-1 < len(estimates) {
		rest -= min(inStep, estimates[step-1]) // most of the current step may be behind us
	}
	// Scaled by the pace so far once a minute of estimates lies behind:
	// before that a step or two that ran short says little of the rest.
	scale := 1.0
	if done >= time.Minute {
		scale = float64(elapsed-inStep) / float64(done)
		scale = min(max(scale, 0.5), 3)
	}
	return time.Duration(float64(rest) * scale)
}

func (p *progress) line() string {
	n := len(p.estimates)
	elapsed := time.Since(p.start)
	l := left(p.estimates, p.step, p.done, elapsed, time.Since(p.stepFrom))
	const width = 24
	filled := 0
	if n > 0 {
		filled = width * max(p.step-1, 0) / n
	}
	return fmt.Sprintf("[%s%s] step %d of %d  %s  elapsed %s, about %s left",
		strings.Repeat("#", filled), strings.Repeat("-", width-filled), p.step, n, p.name,
		elapsed.Round(time.Second), l.Round(time.Second))
}

func (p *progress) draw() {
	if !p.tty || p.step == 0 {
		return
	}
	fmt.Fprintf(p.out, "\r\033[K%s", p.line())
	p.drawn = true
}

// Write lets log lines through, above the bar.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.out, "\r\033[K")
		p.drawn = false
	}
	n, err := p.out.Write(b)
	p.draw()
	return n, err
}

// finish stops redrawing and leaves the last line in place.
func (p *progress) finish() {
	close(p.stop)
	p.stopped.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.out)
		p.drawn = false
	}
	p.tty = false
}
