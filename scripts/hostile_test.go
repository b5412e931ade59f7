package scripts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The hostile-script suite: what a workspace admin who means harm would
// save as a transform. Each case must fail alone, with an error that says
// which limit it hit, within a bounded time, and leave the engine serving
// everyone else.

const goodScript = "function transform(r, e) { r.body = {ok: e.content}; return r; }"

// wantLimit runs src and checks the error kind, and that the engine then
// still runs a good script.
func wantLimit(t *testing.T, e *Engine, src string, kinds ...string) {
	t.Helper()
	start := time.Now()
	res := e.Run(context.Background(), src, baseRequest(), sampleEvent)
	took := time.Since(start)
	var se *Error
	if !errors.As(res.Err, &se) {
		t.Fatalf("err = %v, want one of %v", res.Err, kinds)
	}
	ok := false
	for _, k := range kinds {
		ok = ok || se.Kind == k
	}
	if !ok {
		t.Errorf("error = %s %q, want kind %v", se.Kind, se.Message, kinds)
	}
	if !strings.HasPrefix(se.Message, "transform exceeded its") {
		t.Errorf("message = %q, want it to name the limit", se.Message)
	}
	// Far above the kill deadline: only a limit that does not hold fails this.
	if took > 15*time.Second {
		t.Errorf("took %s", took)
	}
	t.Logf("%s after %s: %s", se.Kind, took.Round(time.Millisecond), se.Message)
	if res := e.Run(context.Background(), goodScript, baseRequest(), sampleEvent); res.Err != nil {
		t.Errorf("the next run failed: %v", res.Err)
	}
}

func TestHostileMemory(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 4 * time.Second, MemoryBytes: 64 << 20})
	for _, tt := range []struct{ name, src string }{
		{"grow length then sort", "function transform(r) { var a = []; a.length = 1e9; a.sort(); return r; }"},
		{"fill a huge array", "function transform(r) { new Array(2e8).fill(0); return r; }"},
		{"repeat", "function transform(r) { r.body = 'x'.repeat(1 << 30); return r; }"},
		{"double a string", "function transform(r) { var s = 'xy'; for (;;) s = s + s; }"},
		{"typed array", "function transform(r) { new Float64Array(1e9); return r; }"},
		{"keep objects", "function transform(r) { var a = []; for (;;) a.push({i: a.length, s: 'abcdefgh' + a.length}); }"},
		{"at the top level", "var big = new Array(2e8).fill(1);\nfunction transform(r) { return r; }"},
	} {
		t.Run(tt.name, func(t *testing.T) { wantLimit(t, e, tt.src, KindMemory) })
	}
}

func TestHostileNativeStalls(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 100 * time.Millisecond, MemoryBytes: 256 << 20})
	for _, tt := range []struct{ name, src string }{
		// A lookaround sends goja to its backtracking engine, which no
		// interrupt reaches: in-process, this one ran for tens of seconds.
		{"backtracking regexp", "function transform(r) { /^(?=a)(a+)+$/.test('a'.repeat(40) + 'b'); return r; }"},
		{"backtracking regexp with lookahead", "function transform(r) { /^(a+)+(?!x)$/.test('a'.repeat(40) + 'b'); return r; }"},
		{"join a huge array", "function transform(r) { var a = []; a.length = 3e7; r.body = a.join('abc').length; return r; }"},
		{"sort with a slow comparator", "function transform(r) { var a = []; for (var i = 0; i < 1e6; i++) a.push(i); a.sort(function (x, y) { for (var j = 0; j < 100; j++); return y - x; }); return r; }"},
	} {
		// Each case hits the time limit, or for a native one the memory cap
		// first; either way the run fails alone and in bounded time.
		t.Run(tt.name, func(t *testing.T) { wantLimit(t, e, tt.src, KindTimeout, KindMemory) })
	}
}

func TestNoStateCrossesRuns(t *testing.T) {
	e := newTestEngine(t, Limits{})
	// The same text, as two workspaces might both save it: each run must
	// see fresh globals and pristine built-ins.
	src := `var seen = [];
function transform(r, e) {
  globalThis.count = (globalThis.count || 0) + 1;
  seen.push(e.content);
  var before = [typeof Object.prototype.stolen, typeof Array.prototype.mine, JSON.stringify.name, String(Math.random === Math.random)];
  Object.prototype.stolen = e.content;
  Array.prototype.mine = function () { return e.content; };
  JSON.stringify = function () { return "hijacked by " + e.content; };
  r.body = {count: globalThis.count, seen: seen.slice(), before: before};
  return r;
}`
	for i, who := range []string{"workspace A's secret", "workspace B", "workspace A's secret"} {
		ev := map[string]any{"content": who}
		res := e.Run(context.Background(), src, baseRequest(), ev)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		got := fmt.Sprint(body(t, res.Request))
		want := fmt.Sprint(map[string]any{"count": 1.0, "seen": []any{who}, "before": []any{"undefined", "undefined", "stringify", "true"}})
		if got != want {
			t.Errorf("run %d saw state of an earlier run: %s, want %s", i, got, want)
		}
	}
}

// TestConcurrentCancellations: runs whose callers give up, beside runs
// that must all succeed. A cancellation must never reach another run.
func TestConcurrentCancellations(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 200 * time.Millisecond})
	var wg sync.WaitGroup
	failures := make(chan error, 200)
	for i := range 60 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%5)*time.Millisecond)
			defer cancel()
			e.Run(ctx, "function transform(r) { var x = 0; for (var i = 0; i < 1e5; i++) x += i; return r; }", baseRequest(), sampleEvent)
		}()
		go func() {
			defer wg.Done()
			if res := e.Run(context.Background(), goodScript, baseRequest(), map[string]any{"content": i}); res.Err != nil {
				failures <- res.Err
			} else if b := body(t, res.Request).(map[string]any); b["ok"] != float64(i) {
				failures <- fmt.Errorf("run %d got %v", i, b)
			}
		}()
	}
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
}

// TestBombBesideGoodRuns: a memory bomb and an endless native stall share
// runners, and so batches, with good runs; only the bombs fail.
func TestBombBesideGoodRuns(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 100 * time.Millisecond, MemoryBytes: 64 << 20})
	bombs := []string{
		"function transform(r) { new Array(2e8).fill(0); return r; }",
		"function transform(r) { /^(?=a)(a+)+$/.test('a'.repeat(40) + 'b'); return r; }",
	}
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%25 == 0 {
				if res := e.Run(context.Background(), bombs[(i/25)%2], baseRequest(), sampleEvent); res.Err == nil {
					errs <- fmt.Errorf("bomb %d succeeded", i)
				}
				return
			}
			if res := e.Run(context.Background(), goodScript, baseRequest(), sampleEvent); res.Err != nil {
				errs <- fmt.Errorf("good run %d: %v", i, res.Err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHostileResultSize: a result too large for its frame would end the
// runner and read as a crash; each part of the request is bounded instead,
// with an error that names the part.
func TestHostileResultSize(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 2 * time.Second})
	for _, tt := range []struct{ name, src, want string }{
		{"huge url", "function transform(r) { r.url = 'https://example.com/' + 'a'.repeat(5e6); return r; }", "request.url is"},
		{"huge header", "function transform(r) { r.headers['X-Big'] = 'a'.repeat(5e6); return r; }", "request.headers.X-Big is"},
		{"huge param", "function transform(r) { r.params.q = '\\u0001'.repeat(1e6); return r; }", "request.params.q is"},
		{"many headers", "function transform(r) { for (var i = 0; i < 1000; i++) r.headers['X-' + i] = 'a'.repeat(6000); return r; }", "request.headers has 1001 entries"},
		{"headers and params together", "function transform(r) { for (var i = 0; i < 90; i++) { r.headers['X-' + i] = 'a'.repeat(8000); r.params['p' + i] = 'b'.repeat(8000); } return r; }", "request.params and request.headers are"},
		{"huge method", "function transform(r) { r.method = 'G'.repeat(5e6); return r; }", "request.method must be"},
		{"huge exception", "function transform(r) { throw new Error('x'.repeat(5e6)); }", "Error: xxx"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.Run(context.Background(), tt.src, baseRequest(), sampleEvent)
			var se *Error
			if !errors.As(res.Err, &se) {
				t.Fatalf("err = %v, want an error", res.Err)
			}
			wantKind := KindResult
			if tt.name == "huge exception" {
				wantKind = KindException
			}
			if se.Kind != wantKind || !strings.Contains(se.Message, tt.want) || len(se.Message) > 4<<10+8 {
				t.Errorf("err = %s %.200q, want %s naming %q", se.Kind, se.Message, wantKind, tt.want)
			}
		})
	}
}

// TestHostileStallInLargeBatch: a runner stuck in native code reads no
// more of its batch; with jobs far larger than the pipe, the hub must still
// kill it in time, answer the stall with the time limit, run the other jobs
// elsewhere, and keep serving.
func TestHostileStallInLargeBatch(t *testing.T) {
	e := NewEngine(Options{Limits: Limits{Timeout: 100 * time.Millisecond}, Runners: 1, Log: slog.Default()})
	pad := "\n// " + strings.Repeat("p", MaxScriptBytes-200)
	stall := "function transform(r) { /^(?=a)(a+)+$/.test('a'.repeat(40) + 'b'); return r; }" + pad
	good := goodScript + pad
	event := map[string]any{"content": strings.Repeat("e", 100<<10)}
	w, err := toWire(baseRequest())
	if err != nil {
		t.Fatal(err)
	}
	// Queued before the runners start, so that they go in one batch, the
	// stall first.
	jobs := make([]*job, 8)
	for i := range jobs {
		src := good
		if i == 0 {
			src = stall
		}
		jobs[i] = &job{ctx: context.Background(), wire: wireJob{ID: e.nextID.Add(1), Script: src, Request: w, Event: event}, done: make(chan wireResult, 1)}
		e.regular.jobs <- jobs[i]
	}
	start := time.Now()
	e.startOnce.Do(e.start)
	deadline := time.After(15 * time.Second)
	for i, j := range jobs {
		select {
		case res := <-j.done:
			switch {
			case i == 0 && (res.Err == nil || res.Err.Kind != KindTimeout):
				t.Errorf("the stall: %+v, want the time limit", res.Err)
			case i > 0 && res.Err != nil:
				t.Errorf("job %d: %v", i+1, res.Err)
			}
		case <-deadline:
			// The engine is wedged; closing it would wait for good.
			t.Fatalf("job %d: no answer after %s", i+1, time.Since(start).Round(time.Millisecond))
		}
	}
	t.Logf("all answered after %s", time.Since(start).Round(time.Millisecond))
	defer e.Close()
	if res := e.Run(context.Background(), goodScript, baseRequest(), sampleEvent); res.Err != nil {
		t.Errorf("the next run failed: %v", res.Err)
	}
}

const stallScript = "function transform(r) { /^(?=a)(a+)+$/.test('a'.repeat(40) + 'b'); return r; }"

// TestHostileSuspectLaneFailsFast: deliveries of a script that recently hit
// a limit do not pile up behind it: past a short queue they are refused at
// once with a temporary error, and every caller returns in bounded time.
func TestHostileSuspectLaneFailsFast(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 50 * time.Millisecond})
	wantLimit(t, e, stallScript, KindTimeout, KindMemory) // now a suspect
	var wg sync.WaitGroup
	var mu sync.Mutex
	busy, slowBusy := 0, 0
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			res := e.Run(context.Background(), stallScript, baseRequest(), sampleEvent)
			var se *Error
			if errors.As(res.Err, &se) && se.Temporary() && strings.Contains(se.Message, "busy") {
				mu.Lock()
				busy++
				if time.Since(start) > time.Second {
					slowBusy++
				}
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(e.bound + 5*time.Second):
		t.Fatal("runs of the suspect script still waiting")
	}
	if busy < 10 || slowBusy > 0 {
		t.Errorf("%d runs refused as busy, %d of them slowly; want most, at once", busy, slowBusy)
	}
}

// TestRunBound: a run returns within the engine's bound even when its
// context has no deadline, with a temporary error if no runner got to it.
func TestRunBound(t *testing.T) {
	e := NewEngine(Options{Limits: Limits{Timeout: 50 * time.Millisecond}, Runners: 1, Log: slog.Default()})
	t.Cleanup(e.Close)
	e.bound = time.Second
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each text its own, so none is a suspect yet.
			src := fmt.Sprintf("%s // %d", stallScript, i)
			start := time.Now()
			res := e.Run(context.Background(), src, baseRequest(), sampleEvent)
			took := time.Since(start)
			var se *Error
			switch {
			case took > e.bound+500*time.Millisecond:
				errs <- fmt.Errorf("run %d took %s", i, took)
			case !errors.As(res.Err, &se) || (se.Kind != KindTimeout && !se.Temporary()):
				errs <- fmt.Errorf("run %d: %v, want the time limit or a temporary error", i, res.Err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSuspicionIsPerOwner: a workspace that makes a script hit a limit (by
// giving it a hostile event) puts that script in the suspect lane for
// itself only; another workspace running the same text keeps the regular
// runners and is never refused as busy.
func TestSuspicionIsPerOwner(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 50 * time.Millisecond})
	const src = `function transform(request, event) { if (event.bomb) { for (;;) {} } return request; }`
	ctx := context.Background()
	attacker, victim := WithOwner(ctx, "workspace-a"), WithOwner(ctx, "workspace-b")
	var se *Error
	if res := e.Run(attacker, src, baseRequest(), map[string]any{"bomb": true}); !errors.As(res.Err, &se) || se.Kind != KindTimeout {
		t.Fatalf("bomb: %v, want a time limit error", res.Err)
	}
	var wg sync.WaitGroup
	var busy, failed atomic.Int32
	for range 40 {
		wg.Go(func() {
			res := e.Run(victim, src, baseRequest(), map[string]any{})
			switch {
			case res.Err != nil && strings.Contains(res.Err.Error(), "busy"):
				busy.Add(1)
			case res.Err != nil:
				failed.Add(1)
				t.Errorf("victim run: %v", res.Err)
			}
		})
	}
	wg.Wait()
	if busy.Load() > 0 {
		t.Errorf("%d of 40 runs of another workspace were refused as busy: the script's suspicion crossed workspaces", busy.Load())
	}
	// The attacker's own runs of it stay in the suspect lane.
	if _, ok := e.suspects.Get(suspectKey(attacker, src)); !ok {
		t.Error("the script is not suspect for the workspace that made it hit a limit")
	}
}

// TestInteractiveRunsStayOffDeliveryRunners: a flood of transform tests,
// each a new script that stalls, never holds up the runs deliveries make;
// the flood is refused as busy instead.
func TestInteractiveRunsStayOffDeliveryRunners(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 50 * time.Millisecond})
	ctx := context.Background()
	const good = `function transform(request) { return request; }`
	if res := e.Run(ctx, good, baseRequest(), nil); res.Err != nil {
		t.Fatal(res.Err)
	}
	stop := make(chan struct{})
	var flood sync.WaitGroup
	var n atomic.Int64
	for range 16 {
		flood.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				src := fmt.Sprintf("function transform(request) { var s = %d; for (;;) {} }", n.Add(1))
				e.Run(Interactive(ctx), src, baseRequest(), nil)
				time.Sleep(time.Millisecond)
			}
		})
	}
	var slow, failed int
	var worst time.Duration
	for deadline := time.Now().Add(1500 * time.Millisecond); time.Now().Before(deadline); {
		start := time.Now()
		res := e.Run(ctx, good, baseRequest(), nil)
		took := time.Since(start)
		worst = max(worst, took)
		if res.Err != nil {
			failed++
			t.Errorf("delivery run: %v", res.Err)
		}
		if took >= e.limits.killAfter() {
			slow++
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	flood.Wait()
	t.Logf("%d stalling transform tests sent; slowest delivery run %s", n.Load(), worst.Round(time.Millisecond))
	if slow > 0 || failed > 0 {
		t.Errorf("%d delivery runs waited out a kill deadline and %d failed beside the flood of transform tests", slow, failed)
	}
}
