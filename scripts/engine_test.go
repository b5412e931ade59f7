package scripts

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestMain lets the test binary serve as its own transform runner, as the
// hub binary does in production.
func TestMain(m *testing.M) {
	fakeRunner()
	RunnerMain()
	os.Exit(m.Run())
}

func newTestEngine(t testing.TB, l Limits) *Engine {
	t.Helper()
	e := NewEngine(Options{Limits: l, Log: slog.Default()})
	t.Cleanup(e.Close)
	return e
}

func baseRequest() *Request {
	return &Request{
		Method:  "POST",
		URL:     "https://example.com/hook",
		Params:  map[string]string{"a": "1"},
		Headers: map[string]string{"X-Team": "blue"},
		Body:    map[string]any{"conversationId": "c-1", "content": "hello"},
	}
}

var sampleEvent = map[string]any{"conversationId": "c-1", "content": "hello", "contact": map[string]any{"name": "Jane"}, "channel": "custom"}

// body decodes the body a run returned.
func body(t testing.TB, r *Request) any {
	t.Helper()
	if r == nil {
		t.Fatal("no request")
	}
	raw, err := json.Marshal(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRunRewritesRequest(t *testing.T) {
	e := newTestEngine(t, Limits{})
	src := `
function transform(request, event) {
  request.url = "https://hooks.example.org/" + event.channel;
  request.method = "put";
  request.headers["X-Contact"] = event.contact.name;
  delete request.params.a;
  request.params.page = 2;
  request.body = { text: event.content.toUpperCase(), tags: ["a"].concat(["b"]) };
  console.log("rewrote", request.url, { n: 1 });
  return request;
}`
	req := baseRequest()
	res := e.Run(context.Background(), src, req, sampleEvent)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	r := res.Request
	if r.Method != "PUT" || r.URL != "https://hooks.example.org/custom" || r.Headers["X-Contact"] != "Jane" || r.Headers["X-Team"] != "blue" {
		t.Errorf("request = %+v", r)
	}
	if _, ok := r.Params["a"]; ok || r.Params["page"] != "2" {
		t.Errorf("params = %v", r.Params)
	}
	b := body(t, r).(map[string]any)
	if b["text"] != "HELLO" || len(b["tags"].([]any)) != 2 {
		t.Errorf("body = %v", b)
	}
	if len(res.Logs) != 1 || res.Logs[0] != `rewrote https://hooks.example.org/custom {"n":1}` {
		t.Errorf("logs = %q", res.Logs)
	}
	if req.URL != "https://example.com/hook" || req.Params["a"] != "1" {
		t.Error("the caller's request was modified")
	}
}

func TestRunSkip(t *testing.T) {
	e := newTestEngine(t, Limits{})
	res := e.Run(context.Background(), `function transform(r, e) { if (e.channel === "custom") return null; return r; }`, baseRequest(), sampleEvent)
	if !res.Skipped || res.Request != nil || res.Err != nil {
		t.Errorf("result = %+v", res)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		kind     string
		line     int
		contains string
	}{
		{"throw", "function transform(r, e) {\n  var x = 1;\n  throw new Error(\"no thanks\");\n}", KindException, 3, "Error: no thanks"},
		{"type error", "function transform(r, e) {\n  return e.missing.field;\n}", KindException, 2, "TypeError"},
		{"throw a string", "function transform(r, e) {\n  throw 'plain';\n}", KindException, 2, "plain"},
		{"returns nothing", "function transform(r, e) { r.url = 'https://x.example'; }", KindResult, 0, "null to skip"},
		{"returns a string", "function transform(r, e) { return 'hi'; }", KindResult, 0, "object"},
		{"bad method", "function transform(r, e) { r.method = 'PATCH'; return r; }", KindResult, 0, "method"},
		{"relative url", "function transform(r, e) { r.url = '/x'; return r; }", KindResult, 0, "url"},
		{"bad header name", "function transform(r, e) { r.headers['a b'] = 'x'; return r; }", KindResult, 0, "header"},
		{"header value with CR/LF", "function transform(r, e) { r.headers['X-A'] = 'a\\r\\nX-B: c'; return r; }", KindResult, 0, "request.headers.X-A: not a valid HTTP header value"},
		{"object header", "function transform(r, e) { r.headers.x = {}; return r; }", KindResult, 0, "request.headers.x"},
		{"recursion", "function f(n) { return f(n + 1) + 1; }\nfunction transform(r, e) { return f(0); }", KindException, 0, "call stack"},
		{"body too large", "function transform(r, e) { r.body = 'x'.repeat(2 << 20); return r; }", KindResult, 0, "limit"},
		{"loops forever", "function transform(r, e) {\n  while (true) {}\n}", KindTimeout, 0, "exceeded its time limit of 50ms"},
		{"top level loops forever", "while (true) {}\nfunction transform(r, e) { return r; }", KindTimeout, 0, "exceeded its time limit"},
	}
	e := newTestEngine(t, Limits{Timeout: 50 * time.Millisecond})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.Run(context.Background(), tt.src, baseRequest(), sampleEvent)
			var se *Error
			if !errors.As(res.Err, &se) {
				t.Fatalf("err = %v, want a script error", res.Err)
			}
			if se.Kind != tt.kind || !strings.Contains(se.Error(), tt.contains) {
				t.Errorf("error = %+v (%q), want kind %s containing %q", se, se.Error(), tt.kind, tt.contains)
			}
			if tt.line != 0 && se.Line != tt.line {
				t.Errorf("line = %d, want %d (%s)", se.Line, tt.line, se.Error())
			}
			// The engine is unharmed: a good script runs.
			if res := e.Run(context.Background(), "function transform(r, e) { return r; }", baseRequest(), sampleEvent); res.Err != nil || res.Request == nil {
				t.Errorf("after failure, a good script fails: %+v", res)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 50 * time.Millisecond})
	for _, tt := range []struct{ src, kind, contains string }{
		{"function transform(r, e) {\n  return r +;\n}", KindCompile, "SyntaxError"},
		{"function other() {}", KindCompile, "must define function transform"},
		{"var transform = 5;", KindCompile, "must define function transform"},
		{"for (;;) {}", KindTimeout, "time limit"},
		{strings.Repeat(" ", MaxScriptBytes+1), KindCompile, "limit"},
	} {
		err := e.Check(context.Background(), tt.src)
		var se *Error
		if !errors.As(err, &se) || se.Kind != tt.kind || !strings.Contains(se.Error(), tt.contains) {
			t.Errorf("Check(%.40q) = %v, want a %s error containing %q", tt.src, err, tt.kind, tt.contains)
		}
	}
	err := e.Check(context.Background(), "function transform(r, e) {\n  return r +;\n}")
	if se := err.(*Error); se.Line != 2 {
		t.Errorf("syntax error line = %d, want 2 (%s)", se.Line, se)
	}
	if err := e.Check(context.Background(), "function transform(r, e) { return r; }"); err != nil {
		t.Errorf("a good script: %v", err)
	}
}

func TestConsoleIsBounded(t *testing.T) {
	e := newTestEngine(t, Limits{MaxLogLines: 5})
	res := e.Run(context.Background(), `function transform(r, e) { for (var i = 0; i < 1000; i++) console.log("line", i); console.error("bad"); return r; }`, baseRequest(), sampleEvent)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Logs) != 6 || !strings.Contains(res.Logs[5], "truncated") {
		t.Errorf("logs = %q", res.Logs)
	}
	if res := e.Run(context.Background(), `function transform(r, e) { console.warn("once"); return r; }`, baseRequest(), sampleEvent); len(res.Logs) != 1 || res.Logs[0] != "WARN once" {
		t.Errorf("logs = %q", res.Logs)
	}
}

func TestNoHostAccess(t *testing.T) {
	e := newTestEngine(t, Limits{})
	res := e.Run(context.Background(), `function transform(r, e) {
  r.body = [typeof require, typeof fetch, typeof process, typeof setTimeout, typeof XMLHttpRequest].join(",");
  return r;
}`, baseRequest(), sampleEvent)
	if b := body(t, res.Request); b != "undefined,undefined,undefined,undefined,undefined" {
		t.Errorf("host objects visible: %v", b)
	}
}

func TestCancelledContext(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	res := e.Run(ctx, "function transform(r, e) { while (true) {} }", baseRequest(), sampleEvent)
	var se *Error
	if !errors.As(res.Err, &se) || !strings.Contains(se.Message, "cancelled") || !se.Temporary() {
		t.Errorf("err = %v, want a temporary cancelled error", res.Err)
	}
}

func TestClosedEngine(t *testing.T) {
	e := NewEngine(Options{})
	if res := e.Run(context.Background(), "function transform(r) { return r; }", baseRequest(), nil); res.Err != nil {
		t.Fatal(res.Err)
	}
	e.Close()
	res := e.Run(context.Background(), "function transform(r) { return r; }", baseRequest(), nil)
	var se *Error
	if !errors.As(res.Err, &se) || !se.Temporary() {
		t.Errorf("after Close: %v, want a temporary error", res.Err)
	}
}

func TestRunnerThatCannotStart(t *testing.T) {
	e := newTestEngine(t, Limits{})
	e.opts.Command = []string{"/nonexistent/switchboard"}
	res := e.Run(context.Background(), "function transform(r) { return r; }", baseRequest(), nil)
	var se *Error
	if !errors.As(res.Err, &se) || se.Kind != KindUnavailable || !se.Temporary() {
		t.Errorf("err = %v, want unavailable", res.Err)
	}
}

// BenchmarkTransform is one run of a typical transform through the sandbox:
// encode, pipe to a runner, a fresh runtime, run, pipe back, decode. Run
// with -cpu to see batching at work under concurrency.
func BenchmarkTransform(b *testing.B) {
	e := newTestEngine(b, Limits{})
	src := `function transform(request, event) {
  request.headers["X-Channel"] = event.channel;
  request.body = { text: event.contact.name + ": " + event.content, conversation: event.conversationId };
  return request;
}`
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := e.Run(ctx, src, baseRequest(), sampleEvent); res.Err != nil {
				b.Fatal(res.Err)
			}
		}
	})
}

// BenchmarkEvaluate is the same transform evaluated in-process in a fresh
// runtime, as a runner does it: the floor under BenchmarkTransform.
func BenchmarkEvaluate(b *testing.B) {
	ev := newEvaluator(DefaultLimits)
	src := `function transform(request, event) {
  request.headers["X-Channel"] = event.channel;
  request.body = { text: event.contact.name + ": " + event.content, conversation: event.conversationId };
  return request;
}`
	b.ReportAllocs()
	for b.Loop() {
		if res := ev.run(src, baseRequest(), sampleEvent); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}

// TestRetiringRunnerLastResult: a runner that retires writes its last
// result and exits at once; the result must arrive all the same, not be
// lost with the pipe and read as a crash. (The loss is a race this test
// catches only now and then; TestResultWrittenBeforeExit forces it.)
func TestRetiringRunnerLastResult(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 5 * time.Second, MemoryBytes: 64 << 20})
	// Grows the heap past half the limit, so the runner retires after it,
	// and answers with a body far larger than the pipe holds.
	src := "function transform(r) { var a = 'y'.repeat(4e7); r.body = 'x'.repeat(200000) + a.length; return r; }"
	for i := range 10 {
		res := e.Run(context.Background(), src, baseRequest(), sampleEvent)
		if res.Err != nil {
			t.Fatalf("run %d: %v", i, res.Err)
		}
	}
	var m dto.Metric
	if err := e.restarts.Write(&m); err != nil {
		t.Fatal(err)
	}
	if n := m.GetCounter().GetValue(); n < 5 {
		t.Fatalf("runners started: %v; the script no longer makes its runner retire", n)
	}
}

// fakeRunner turns the test binary into a runner that misbehaves in a
// given way, when a test's Options.Command starts it with "fake-runner".
func fakeRunner() {
	if len(os.Args) < 3 || os.Args[1] != "fake-runner" {
		return
	}
	in, out := bufio.NewReader(os.Stdin), bufio.NewWriter(os.Stdout)
	var buf []byte
	switch os.Args[2] {
	case "answer-from-child", "stall-answer-from-child":
		// Has a child that outlives it answer the first job, late, as if
		// that answer were still in the pipe when the runner ended. The
		// staller then reads on and never answers or exits by itself.
		writeFrame(out, wireResult{})
		out.Flush()
		var j wireJob
		if err := readFrame(in, maxJobFrame, &buf, &j); err != nil {
			os.Exit(3)
		}
		child := exec.Command(os.Args[0], "fake-runner", "late-answer", strconv.FormatUint(j.ID, 10))
		child.Stdout = os.Stdout
		if err := child.Start(); err != nil {
			os.Exit(3)
		}
		if os.Args[2] == "stall-answer-from-child" {
			io.Copy(io.Discard, in)
			select {}
		}
		os.Exit(0)
	case "late-answer":
		time.Sleep(500 * time.Millisecond)
		id, _ := strconv.ParseUint(os.Args[3], 10, 64)
		writeFrame(out, wireResult{ID: id, Skipped: true})
		out.Flush()
		os.Exit(0)
	}
	os.Exit(3)
}

// TestResultWrittenBeforeExit: a runner's last result is read even when the
// runner has exited by the time it is: the result counts, not the exit.
func TestResultWrittenBeforeExit(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 2 * time.Second})
	e.opts.Command = []string{os.Args[0], "fake-runner", "answer-from-child"}
	res := e.Run(context.Background(), goodScript, baseRequest(), sampleEvent)
	if res.Err != nil || !res.Skipped {
		t.Errorf("result = %+v, want the runner's answer (skipped)", res)
	}
}

// TestWatchdogBlamesOnlyTheOverdueJob: when the watchdog kills a runner
// for the job it is running, and that job's result comes in all the same,
// the next job, perhaps another workspace's, is not blamed: it runs on
// another runner.
func TestWatchdogBlamesOnlyTheOverdueJob(t *testing.T) {
	e := newTestEngine(t, Limits{Timeout: 50 * time.Millisecond})
	e.opts.Command = []string{os.Args[0], "fake-runner", "stall-answer-from-child"}
	// Queued before the runners start, so that both go in one batch.
	jobs := make([]*job, 2)
	for i := range jobs {
		jobs[i] = &job{ctx: context.Background(), wire: wireJob{ID: e.nextID.Add(1), Script: goodScript}, done: make(chan wireResult, 1)}
		e.regular.jobs <- jobs[i]
	}
	e.startOnce.Do(e.start)
	for i, j := range jobs {
		select {
		case res := <-j.done:
			if res.Err != nil || !res.Skipped {
				t.Errorf("job %d: %+v, want the runner's answer", i+1, res)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("job %d: no answer", i+1)
		}
	}
}

// TestSpawnAfterUpgrade: an upgrade that replaces the hub's binary in place
// must not change, or break, the runners the running hub starts. The test
// binary copies itself, and the copy removes its own file before its first
// run, as a package upgrade would.
func TestSpawnAfterUpgrade(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/self/exe is Linux's")
	}
	if os.Getenv("SCRIPTS_TEST_UPGRADED") == "1" {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(exe); err != nil {
			t.Fatal(err)
		}
		e := newTestEngine(t, Limits{})
		if res := e.Run(context.Background(), goodScript, baseRequest(), sampleEvent); res.Err != nil {
			t.Fatalf("run after the binary was removed: %v", res.Err)
		}
		return
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "hub")
	if err := os.WriteFile(copied, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copied, "-test.run=^TestSpawnAfterUpgrade$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SCRIPTS_TEST_UPGRADED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
