package browsertest

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// strictCSP is the policy the admin UI serves: nothing inline, nothing from
// elsewhere.
const strictCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// site is a tiny web site under a strict CSP, with a form, a script that
// fetches, a copy button and pages that misbehave. It records what the form
// posts.
type site struct {
	*httptest.Server
	mu     sync.Mutex
	posted map[string]string
}

func newSite(t *testing.T) *site {
	s := &site{}
	mux := http.NewServeMux()
	page := func(title, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", strictCSP)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<!doctype html><html lang=en><head><meta charset=utf-8><title>%s</title>"+
				"</head><body>%s</body></html>", title, body)
		}
	}
	script := func(js string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, js)
		}
	}

	mux.HandleFunc("GET /form", page("Form", `
		<form method=post action=/greet>
		<input id=name name=name value="someone">
		<select id=color name=color><option value=red>Red</option><option value=green>Green</option></select>
		<textarea id=note name=note>pre-filled</textarea>
		<button id=send>Send</button>
		</form>`))
	mux.HandleFunc("POST /greet", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.posted = map[string]string{"name": r.FormValue("name"), "color": r.FormValue("color"), "note": r.FormValue("note")}
		s.mu.Unlock()
		page("Greeting", fmt.Sprintf(`<p id=greeting>Hello, %s. You like %s.</p>`,
			html.EscapeString(r.FormValue("name")), html.EscapeString(r.FormValue("color"))))(w, r)
	})

	mux.HandleFunc("GET /app", page("App", `
		<button id=load>Load</button> <p id=out>nothing yet</p>
		<button id=copy>Copy token</button> <p id=copied hidden>Copied</p>
		<script src=/app.js></script>`))
	mux.HandleFunc("GET /app.js", script(`
		document.getElementById("load").addEventListener("click", async () => {
			await new Promise(r => setTimeout(r, 200));
			const res = await fetch("/api/count");
			document.getElementById("out").textContent = "count: " + (await res.json()).count;
		});
		document.getElementById("copy").addEventListener("click", async () => {
			await navigator.clipboard.writeText("sba_example_token");
			document.getElementById("copied").hidden = false;
		});`))
	mux.HandleFunc("GET /api/count", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"count": 42}`)
	})

	mux.HandleFunc("GET /slow-form", page("Slow form", `<form method=post action=/slow><button id=go>Go</button></form>`))
	mux.HandleFunc("POST /slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond) // the wait starts in the form's page
		page("Slow", `<p id=done>Done at last</p>`)(w, r)
	})

	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>Plain</title><p>no policy</p>")
	})
	mux.HandleFunc("GET /inline", page("Inline", `<p id=p>inline</p><script>document.title = "ran";</script>`))
	mux.HandleFunc("GET /console-error", page("Console", `<script src=/console-error.js></script>`))
	mux.HandleFunc("GET /console-error.js", script("// logs an error\nconsole.error(\"boom\", 42);\n"))
	mux.HandleFunc("GET /throw", page("Throw", `<script src=/throw.js></script>`))
	mux.HandleFunc("GET /throw.js", script(`throw new Error("kaput");`))
	mux.HandleFunc("GET /missing-image", page("Missing", `<img src=/missing.png alt="">`))
	mux.HandleFunc("GET /tall", page("Tall", `<div id=top>top</div><div id=bottom>bottom</div><link rel=stylesheet href=/tall.css>`))
	mux.HandleFunc("GET /tall.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, "body { margin: 0 } #top { height: 3000px; background: #cde }")
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestFormRoundTrip(t *testing.T) {
	s := newSite(t)
	b := New(t)
	b.Go(s.URL + "/form")
	b.Fill("#name", "Ada Lovelace ✓")
	b.Fill("#color", "green")
	b.Fill("#note", "two\nlines")
	b.Click("#send")
	b.WaitVisible("#greeting")

	if got, want := b.Text("#greeting"), "Hello, Ada Lovelace ✓. You like green."; got != want {
		t.Errorf("greeting = %q, want %q", got, want)
	}
	if got, want := b.URL(), s.URL+"/greet"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]string{"name": "Ada Lovelace ✓", "color": "green", "note": "two\r\nlines"}
	for k, v := range want {
		if s.posted[k] != v {
			t.Errorf("posted %s = %q, want %q", k, s.posted[k], v)
		}
	}
}

func TestWaitTextAfterFetch(t *testing.T) {
	s := newSite(t)
	b := New(t)
	b.Go(s.URL + "/app")
	b.Click("#load")
	b.WaitText("#out", "count: 42")
}

// TestWaitTextAcrossNavigation: a wait begun in a page that a click leaves
// goes on in the page it opens.
func TestWaitTextAcrossNavigation(t *testing.T) {
	s := newSite(t)
	b := New(t)
	b.Go(s.URL + "/slow-form")
	b.Click("#go")
	b.WaitText("#done", "at last")
}

func TestClipboard(t *testing.T) {
	s := newSite(t)
	b := New(t)
	b.Go(s.URL + "/app")
	b.Click("#copy")
	b.WaitVisible("#copied")
	if got := b.Clipboard(); got != "sba_example_token" {
		t.Errorf("clipboard = %q, want the token", got)
	}
}

func TestEval(t *testing.T) {
	s := newSite(t)
	b := New(t)
	b.Go(s.URL + "/app") // DevTools evaluates despite the strict CSP

	var sum int
	b.Eval(`1 + 2`, &sum)
	var obj struct {
		Title string `json:"title"`
		Items []int  `json:"items"`
	}
	b.Eval(`Promise.resolve({title: document.title, items: [1, 2]})`, &obj)
	b.Eval(`document.body.dataset.touched = "yes"`, nil)
	var touched string
	b.Eval(`document.body.dataset.touched`, &touched)
	if sum != 3 || obj.Title != "App" || len(obj.Items) != 2 || touched != "yes" {
		t.Errorf("sum %d, obj %+v, touched %q", sum, obj, touched)
	}
}

func TestScreenshotIsWholePage(t *testing.T) {
	s := newSite(t)
	b := New(t, WithWindowSize(800, 600))
	dir := filepath.Join(t.TempDir(), "shots") // Screenshot makes it
	tests := []struct {
		page             string
		minHigh, maxHigh int
	}{
		{page: "/form", minHigh: 600, maxHigh: 600},   // short: the window
		{page: "/tall", minHigh: 3000, maxHigh: 3100}, // beyond the window
	}
	for _, tt := range tests {
		b.Go(s.URL + tt.page)
		path := filepath.Join(dir, strings.TrimPrefix(tt.page, "/")+".png")
		b.Screenshot(path)
		if got := pngSize(t, path); got.X != 800 || got.Y < tt.minHigh || got.Y > tt.maxHigh {
			t.Errorf("screenshot of %s is %v, want 800 wide and %d to %d high", tt.page, got, tt.minHigh, tt.maxHigh)
		}
	}
}

func TestScreenshotWindowIsTheWindow(t *testing.T) {
	s := newSite(t)
	b := New(t, WithWindowSize(800, 600))
	b.Go(s.URL + "/tall")
	b.Eval(`window.scrollTo(0, 2000)`, nil)
	path := filepath.Join(t.TempDir(), "shots", "tall.png")
	b.ScreenshotWindow(path)
	if got := pngSize(t, path); got.X != 800 || got.Y != 600 {
		t.Errorf("screenshot of the window is %v, want 800×600", got)
	}
}

func pngSize(t *testing.T, path string) image.Point {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img.Bounds().Size()
}

func TestInlineScriptIsCSPViolation(t *testing.T) {
	s := newSite(t)
	b := New(t)
	b.Go(s.URL + "/inline")
	ps := b.Problems()
	if len(ps) != 1 || ps[0].Kind != CSPViolation || !strings.Contains(ps[0].Text, "script-src 'self'") {
		t.Fatalf("problems = %v, want one CSP violation of script-src", ps)
	}
	var title string
	b.Eval(`document.title`, &title)
	if title != "Inline" {
		t.Errorf("title = %q: the inline script ran", title)
	}
}

func TestConsoleErrorIsProblem(t *testing.T) {
	s := newSite(t)
	b := New(t)
	b.Go(s.URL + "/console-error")
	want := Problem{Kind: ConsoleError, Text: "boom 42", URL: s.URL + "/console-error.js", Line: 2}
	if ps := b.Problems(); len(ps) != 1 || ps[0] != want {
		t.Fatalf("problems = %v, want [%v]", ps, want)
	}
}

func TestExceptionIsProblem(t *testing.T) {
	s := newSite(t)
	b := New(t)
	b.Go(s.URL + "/throw")
	ps := b.Problems()
	if len(ps) != 1 || ps[0].Kind != Exception || ps[0].Text != "Uncaught Error: kaput" || ps[0].URL != s.URL+"/throw.js" {
		t.Fatalf("problems = %v, want the uncaught Error", ps)
	}
}

func TestFailedRequestIsProblem(t *testing.T) {
	s := newSite(t)
	b := New(t)
	b.Go(s.URL + "/missing-image")
	ps := b.Problems()
	if len(ps) != 1 || ps[0].Kind != ConsoleError || !strings.Contains(ps[0].Text, "404") {
		t.Fatalf("problems = %v, want the image's 404", ps)
	}
}

// A page reaches the test's own servers on loopback, and nothing else.
func TestNoNetworkBeyondLoopback(t *testing.T) {
	s := newSite(t)
	b := New(t)
	b.Go(s.URL + "/plain") // no CSP: only the browser's own rules apply
	fetch := func(url string) bool {
		var ok bool
		b.Eval(fmt.Sprintf(`fetch(%q, {mode: "no-cors"}).then(() => true, () => false)`, url), &ok)
		return ok
	}
	for _, url := range []string{s.URL + "/api/count", strings.Replace(s.URL, "127.0.0.1", "localhost", 1) + "/api/count"} {
		if !fetch(url) {
			t.Errorf("fetch %s failed", url)
		}
	}
	// .invalid resolves nowhere, and the browser does not even look it up.
	if fetch("http://switchboard.invalid/") {
		t.Error("a fetch beyond loopback succeeded")
	}
	if ps := b.Problems(); len(ps) != 1 || ps[0].Kind != ConsoleError || !strings.Contains(ps[0].Text, "loopback only") {
		t.Errorf("problems = %v, want the failed fetch", ps)
	}
}

func TestProblemsLeftFailTheTest(t *testing.T) {
	s := newSite(t)
	r := &recorder{TB: t}
	b := New(r)
	b.Go(s.URL + "/console-error")
	b.reportProblems() // as the test's cleanup does
	if msg := r.message(); !strings.Contains(msg, "1 problem(s)") || !strings.Contains(msg, "console error: boom 42") {
		t.Errorf("report = %q", msg)
	}
}

func TestTimeoutReportsThePage(t *testing.T) {
	s := newSite(t)
	r := &recorder{TB: t}
	b := New(r)
	b.Go(s.URL + "/app")
	b.timeout = time.Second // as WithTimeout would, for the wait that must fail only
	r.expectFatal(func() { b.WaitVisible("#never") })

	msg := r.message()
	for _, want := range []string{"wait for #never to be visible", "gave up after 1s", "URL: " + s.URL + "/app", `<button id="load">Load</button>`, "screenshot: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure lacks %q:\n%s", want, msg)
		}
	}
	path := msg[strings.Index(msg, "screenshot: ")+len("screenshot: "):]
	path, _, _ = strings.Cut(path, " ")
	if b, err := os.ReadFile(path); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("screenshot %s: %v", path, err)
	}
}

func TestFindBrowser(t *testing.T) {
	tests := []struct {
		name, chrome, path, ci string
		want                   string // "fail", "skip" or "found"
	}{
		{name: "env names a missing binary", chrome: "/nonexistent/chromium", want: "fail"},
		{name: "none, outside CI", path: t.TempDir(), want: "skip"},
		{name: "none, in CI", path: t.TempDir(), ci: "true", want: "fail"},
		{name: "on PATH", path: fakeBrowserDir(t, "chromium-browser"), want: "found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvChrome, tt.chrome)
			t.Setenv("CI", tt.ci)
			if tt.path != "" {
				t.Setenv("PATH", tt.path)
			}
			r := &recorder{TB: t}
			var got string
			r.run(func() { got = findBrowser(r) })
			switch {
			case r.skipped:
				got = "skip"
			case r.message() != "":
				got = "fail"
			case got != "":
				got = "found"
			}
			if got != tt.want {
				t.Errorf("got %s, want %s (message %q)", got, tt.want, r.message())
			}
		})
	}
}

func fakeBrowserDir(t *testing.T, name string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// recorder stands in for the test, to check how the helper fails one: it
// keeps what the helper reports instead of failing.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	msgs     []string
	skipped  bool
	catching bool // in run
}

func (r *recorder) record(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, s)
}

func (r *recorder) message() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n")
}

func (r *recorder) Error(args ...any)                 { r.record(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.record(fmt.Sprintf(format, args...)) }
func (r *recorder) Fatal(args ...any)                 { r.fatal(fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) { r.fatal(fmt.Sprintf(format, args...)) }

// fatal records msg and ends the goroutine of run; outside run, it fails the
// real test: the helper failed where the test did not expect it to.
func (r *recorder) fatal(msg string) {
	r.mu.Lock()
	catching := r.catching
	r.mu.Unlock()
	if !catching {
		r.TB.Fatal(msg)
	}
	r.record(msg)
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

// run calls f in a goroutine of its own, which Fatal and Skip end.
func (r *recorder) run(f func()) {
	r.mu.Lock()
	r.catching = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.catching = false
		r.mu.Unlock()
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// expectFatal calls f and fails the test unless f fails through the recorder.
func (r *recorder) expectFatal(f func()) {
	r.TB.Helper()
	finished := false
	r.run(func() { f(); finished = true })
	if finished {
		r.TB.Fatal("the step passed; want it to fail")
	}
}
