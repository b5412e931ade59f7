package scripts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

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

func mustCompile(t testing.TB, e *Engine, src string) *Script {
	t.Helper()
	s, err := e.Compile(src)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return s
}

func TestRunRewritesRequest(t *testing.T) {
	e := NewEngine(Limits{})
	s := mustCompile(t, e, `
function transform(request, event) {
  request.url = "https://hooks.example.org/" + event.channel;
  request.method = "put";
  request.headers["X-Contact"] = event.contact.name;
  delete request.params.a;
  request.params.page = 2;
  request.body = { text: event.content.toUpperCase(), tags: ["a"].concat(["b"]) };
  console.log("rewrote", request.url, { n: 1 });
  return request;
}`)
	req := baseRequest()
	res := e.Run(context.Background(), s, req, sampleEvent)
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
	body := r.Body.(map[string]any)
	if body["text"] != "HELLO" || len(body["tags"].([]any)) != 2 {
		t.Errorf("body = %v", body)
	}
	if len(res.Logs) != 1 || res.Logs[0] != `rewrote https://hooks.example.org/custom {"n":1}` {
		t.Errorf("logs = %q", res.Logs)
	}
	if req.URL != "https://example.com/hook" || req.Params["a"] != "1" {
		t.Error("the caller's request was modified")
	}
}

func TestRunSkip(t *testing.T) {
	e := NewEngine(Limits{})
	s := mustCompile(t, e, `function transform(r, e) { if (e.channel === "custom") return null; return r; }`)
	res := e.Run(context.Background(), s, baseRequest(), sampleEvent)
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
		{"object header", "function transform(r, e) { r.headers.x = {}; return r; }", KindResult, 0, "request.headers.x"},
		{"recursion", "function f(n) { return f(n + 1) + 1; }\nfunction transform(r, e) { return f(0); }", KindException, 0, "call stack"},
		{"huge string", "function transform(r, e) { r.body = 'x'.repeat(1e9); return r; }", KindException, 1, "RangeError"},
		{"loops forever", "function transform(r, e) {\n  while (true) {}\n}", KindTimeout, 0, "longer than"},
	}
	e := NewEngine(Limits{Timeout: 50 * time.Millisecond})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, e, tt.src)
			start := time.Now()
			res := e.Run(context.Background(), s, baseRequest(), sampleEvent)
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
			if time.Since(start) > 2*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			// The engine is unharmed: the same script compiles and a good one runs.
			ok := mustCompile(t, e, "function transform(r, e) { return r; }")
			if res := e.Run(context.Background(), ok, baseRequest(), sampleEvent); res.Err != nil || res.Request == nil {
				t.Errorf("after failure, a good script fails: %+v", res)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	e := NewEngine(Limits{})
	for _, tt := range []struct{ src, contains string }{
		{"function transform(r, e) {\n  return r +;\n}", "SyntaxError"},
		{"function other() {}", "must define function transform"},
		{"var transform = 5;", "must define function transform"},
	} {
		_, err := e.Compile(tt.src)
		var se *Error
		if !errors.As(err, &se) || se.Kind != KindCompile || !strings.Contains(se.Error(), tt.contains) {
			t.Errorf("Compile(%q) = %v, want a compile error containing %q", tt.src, err, tt.contains)
		}
	}
	_, err := e.Compile("function transform(r, e) {\n  return r +;\n}")
	if se := err.(*Error); se.Line != 2 {
		t.Errorf("syntax error line = %d, want 2 (%s)", se.Line, se)
	}
}

func TestConsoleIsBounded(t *testing.T) {
	e := NewEngine(Limits{MaxLogLines: 5})
	s := mustCompile(t, e, `function transform(r, e) { for (var i = 0; i < 1000; i++) console.log("line", i); console.error("bad"); return r; }`)
	res := e.Run(context.Background(), s, baseRequest(), sampleEvent)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Logs) != 6 || !strings.Contains(res.Logs[5], "truncated") {
		t.Errorf("logs = %q", res.Logs)
	}
	// The next run starts with an empty log.
	s2 := mustCompile(t, e, `function transform(r, e) { console.warn("once"); return r; }`)
	if res := e.Run(context.Background(), s2, baseRequest(), sampleEvent); len(res.Logs) != 1 || res.Logs[0] != "WARN once" {
		t.Errorf("logs = %q", res.Logs)
	}
}

func TestScriptsDoNotShareGlobals(t *testing.T) {
	e := NewEngine(Limits{})
	a := mustCompile(t, e, `var secret = "from a"; globalThis.leak = "a"; function transform(r, e) { r.body = secret; return r; }`)
	b := mustCompile(t, e, `function transform(r, e) { r.body = typeof leak + "/" + typeof secret; return r; }`)
	e.Run(context.Background(), a, baseRequest(), sampleEvent)
	res := e.Run(context.Background(), b, baseRequest(), sampleEvent)
	if res.Request.Body != "undefined/undefined" {
		t.Errorf("script b saw a's globals: %v", res.Request.Body)
	}
}

func TestNoHostAccess(t *testing.T) {
	e := NewEngine(Limits{})
	s := mustCompile(t, e, `function transform(r, e) {
  r.body = [typeof require, typeof fetch, typeof process, typeof setTimeout, typeof XMLHttpRequest].join(",");
  return r;
}`)
	res := e.Run(context.Background(), s, baseRequest(), sampleEvent)
	if res.Request.Body != "undefined,undefined,undefined,undefined,undefined" {
		t.Errorf("host objects visible: %v", res.Request.Body)
	}
}

func TestCancelledContext(t *testing.T) {
	e := NewEngine(Limits{Timeout: 10 * time.Second})
	s := mustCompile(t, e, "function transform(r, e) { while (true) {} }")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	res := e.Run(ctx, s, baseRequest(), sampleEvent)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "cancelled") {
		t.Errorf("err = %v", res.Err)
	}
}

// BenchmarkTransform is one pooled run of a typical transform.
func BenchmarkTransform(b *testing.B) {
	e := NewEngine(Limits{})
	s := mustCompile(b, e, `function transform(request, event) {
  request.headers["X-Channel"] = event.channel;
  request.body = { text: event.contact.name + ": " + event.content, conversation: event.conversationId };
  return request;
}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res := e.Run(ctx, s, baseRequest(), sampleEvent)
		if res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}
