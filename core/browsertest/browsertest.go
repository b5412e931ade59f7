// Package browsertest drives a headless Chromium for tests of the pages the
// hub serves. Each test gets a browser of its own, closed when the test ends,
// and fails when the page logs a console error, throws an uncaught exception
// or violates its Content-Security-Policy.
//
//	b := browsertest.New(t)
//	b.Go(hub.URL + "/admin/")
//	b.Fill("#name", "Support")
//	b.Click("button[type=submit]")
//	b.WaitText(".flash", "Saved")
//
// Selectors are CSS selectors; a method acts on the first element that
// matches. A method that fails stops the test (t.Fatal), so call it from the
// test's goroutine. Each wait gives up after a generous timeout
// ([DefaultTimeout]) and then fails with the page's URL, an excerpt of its
// HTML, the problems it reported and a screenshot in the test's artifact
// directory (t.ArtifactDir: kept with go test -artifacts, else removed with
// the test). Nothing here measures or asserts how long a step takes.
//
// The browser is the one named by SWITCHBOARD_TEST_CHROME, or else the first
// of chromium, chromium-browser, google-chrome and google-chrome-stable on
// PATH. Without one the test is skipped, unless CI is set: then it fails, so a
// CI run can never pass by skipping the browser tests.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// EnvChrome names the environment variable that gives the browser binary.
const EnvChrome = "SWITCHBOARD_TEST_CHROME"

// DefaultTimeout bounds each navigation, wait and action. It is long on
// purpose: a loaded CI machine with two cores can be slow, and a test that
// passes only on a fast machine is worse than one that takes its time to fail.
const DefaultTimeout = 30 * time.Second

// pollEvery is how often a step that waits looks again: for an element to
// appear, a text to show. chromedp's own defaults (a DevTools round trip every
// 5 ms, a script on every animation frame) keep Chromium busy for as long as
// a page takes to change, which a machine running other tests beside these
// feels; a person would not notice 50 ms.
const pollEvery = 50 * time.Millisecond

// every makes an element query look again each pollEvery.
var every = chromedp.RetryInterval(pollEvery)

// startTimeout bounds the start of the browser and of its first tab.
const startTimeout = 60 * time.Second

// browserNames are looked up on PATH, in order, when EnvChrome is unset.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Option changes how New starts the browser.
type Option func(*options)

type options struct {
	timeout       time.Duration
	width, height int
}

// WithTimeout sets how long each step may take before the test fails,
// instead of DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithWindowSize sets the size of the browser window in CSS pixels, 1280×800
// unless given. Screenshots are as wide as the window.
func WithWindowSize(width, height int) Option {
	return func(o *options) { o.width, o.height = width, height }
}

// Browser is a headless Chromium with one tab, for one test.
type Browser struct {
	t       testing.TB
	ctx     context.Context // the tab's; ends at the test's cleanup
	timeout time.Duration
	width   int
	height  int
	output  *tail // what Chromium and chromedp printed, for failures

	mu       sync.Mutex
	problems []Problem
	shots    int // failure screenshots taken
}

// New starts a headless Chromium for the test and opens its tab. The browser
// closes when the test ends; any problem the page reported and no test took
// with Problems then fails the test.
func New(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	o := options{timeout: DefaultTimeout, width: 1280, height: 800}
	for _, opt := range opts {
		opt(&o)
	}
	path := findBrowser(t)

	b := &Browser{t: t, timeout: o.timeout, width: o.width, height: o.height, output: &tail{max: 8 << 10}}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocatorOptions(path, o, b.output)...)
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.observe),
		chromedp.WithLogf(b.output.printf),
		chromedp.WithErrorf(b.output.printf),
	)
	b.ctx = ctx
	t.Cleanup(func() {
		b.reportProblems()
		cancelTab()
		cancelAlloc() // waits for Chromium to exit and its profile to be removed
	})

	// The first Do starts Chromium and ties it to ctx, so it cannot run under a
	// context with a deadline: a timer cancels ctx instead.
	timer := time.AfterFunc(startTimeout, cancelTab)
	err := chromedp.Do(ctx, chromedp.Func(b.setUpTab))
	if !timer.Stop() {
		err = fmt.Errorf("no answer within %s", startTimeout)
	}
	if err != nil {
		t.Fatalf("browsertest: start %s: %v\n%s", path, err, b.output)
	}
	return b
}

// findBrowser returns the browser binary to run, or ends the test: it fails
// when EnvChrome names no executable or when CI is set and no browser is found,
// and skips otherwise.
func findBrowser(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvChrome); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("browsertest: %s=%s: %v", EnvChrome, p, err)
		}
		return path
	}
	for _, name := range browserNames {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := fmt.Sprintf("browsertest: no browser: set %s or put one of %s on PATH (Debian: apt-get install chromium)",
		EnvChrome, strings.Join(browserNames, ", "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so this fails instead of skipping")
	}
	t.Skip(msg)
	return ""
}

// allocatorOptions are chromedp's defaults (headless, no first run, no
// background networking, no sync, no extensions ...) and more: nothing may
// leave the machine except requests to loopback, where the test's servers are.
func allocatorOptions(path string, o options, out *tail) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.CombinedOutput(out),
		chromedp.WindowSize(o.width, o.height),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("lang", "en-US"),
		// No update checks, pings, field trials or lookups of Google's services.
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-field-trial-config", true),
		chromedp.Flag("disable-search-engine-choice-screen", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("no-service-autorun", true),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,"+
			"AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions"),
		// Every request goes to a proxy that does not exist, except those to
		// loopback, which Chromium never proxies: a page that loads anything
		// from elsewhere gets a failed request, which the test reports as a
		// console error, and Chromium looks up no host name itself.
		chromedp.ProxyServer("http://127.0.0.1:9"),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root, as CI does.
		opts = append(opts, chromedp.NoSandbox)
	}
	return opts
}

// setUpTab gives the page a viewport of exactly the window's size (headless
// Chromium takes a window frame off it otherwise), lets it behave as a
// focused window, as a person's would, and allows it the clipboard, so that
// copy buttons work and Clipboard can read.
func (b *Browser) setUpTab(ctx context.Context, t *chromedp.Target) error {
	_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(b.width), Height: int64(b.height), DeviceScaleFactor: 1,
	})
	if err != nil {
		return fmt.Errorf("set viewport: %w", err)
	}
	if _, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		return fmt.Errorf("emulate focus: %w", err)
	}
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    browser.PermissionSettingGranted,
		})
		if err != nil {
			return fmt.Errorf("grant %s: %w", name, err)
		}
	}
	return nil
}

// Go opens url in the tab and waits for it to load.
func (b *Browser) Go(url string) {
	b.t.Helper()
	b.do("go to "+url, chromedp.Navigate(url))
}

// URL returns the address of the page in the tab.
func (b *Browser) URL() string {
	b.t.Helper()
	return run(b, "read the URL", chromedp.Location())
}

// Click waits for the element to be visible and clicks its middle with the
// mouse.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel), every))
}

// Fill waits for the form field to be visible and replaces its value: it
// empties an input or textarea and types value key by key, as a person would;
// it selects the option with that value in a select. The page sees the input
// and change events either way.
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	const clear = `(sel, value) => {
		const el = document.querySelector(sel);
		el.focus();
		if (el instanceof HTMLSelectElement) {
			el.value = value;
			if (el.value !== value) throw new Error("no option with value " + JSON.stringify(value));
		} else {
			el.value = "";
		}
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return el instanceof HTMLSelectElement;
	}`
	b.do("fill "+sel, chromedp.WaitVisible(chromedp.CSS(sel), every))
	isSelect := run(b, "fill "+sel, chromedp.Evaluate[bool](call(clear, sel, value)))
	if !isSelect && value != "" {
		b.do("fill "+sel, chromedp.SendKeys(chromedp.CSS(sel), value, every))
	}
}

// Text waits for the element and returns its text as rendered (innerText):
// the empty string when it is hidden.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return run(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel), every))
}

// WaitVisible waits until an element matching sel is visible.
func (b *Browser) WaitVisible(sel string) {
	b.t.Helper()
	b.do("wait for "+sel+" to be visible", chromedp.WaitVisible(chromedp.CSS(sel), every))
}

// WaitText waits until the text of the first element matching sel contains
// want, for pages that update after a request, and for the page a click
// opens: a navigation while it waits makes it wait in the new page.
func (b *Browser) WaitText(sel, want string) {
	b.t.Helper()
	const has = `(sel, want) => {
		const el = document.querySelector(sel);
		return el !== null && el.innerText.includes(want);
	}`
	what := fmt.Sprintf("wait for %s to contain %q", sel, want)
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	for {
		_, err := chromedp.Run(ctx, chromedp.PollFunction[bool](has,
			chromedp.WithPollingArgs(sel, want),
			chromedp.WithPollingInterval(pollEvery),
			chromedp.WithPollingTimeout(0), // the step's own timeout applies
		))
		if err == nil {
			return
		}
		// A poll runs in one page and ends with it.
		if ctx.Err() != nil || !navigatedAway(err) {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			b.fail(what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// navigatedAway tells the errors of a script that ran in a page the tab left
// (or was leaving) before it finished.
func navigatedAway(err error) bool {
	msg := err.Error()
	for _, s := range []string{"Inspected target navigated or closed", "Execution context was destroyed", "Cannot find context with specified id"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Eval evaluates the JavaScript expression in the page, awaits it when it is a
// promise, and decodes its JSON value into out; out may be nil. A thrown
// exception fails the test. DevTools evaluates it, so the page's
// Content-Security-Policy does not block it.
func (b *Browser) Eval(js string, out any) {
	b.t.Helper()
	raw := run(b, "eval "+abbreviate(js, 60), chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if out == nil {
		return
	}
	if len(raw) == 0 {
		b.t.Fatalf("browsertest: eval %s: the result is undefined", abbreviate(js, 60))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		b.t.Fatalf("browsertest: eval %s: decode %s: %v", abbreviate(js, 60), abbreviate(string(raw), 200), err)
	}
}

// Clipboard returns the text on the clipboard, such as what a copy button put
// there. The page is allowed to read and write the clipboard.
func (b *Browser) Clipboard() string {
	b.t.Helper()
	var s string
	b.Eval(`navigator.clipboard.readText()`, &s)
	return s
}

// Screenshot saves a PNG of the whole page, beyond the window's height, to
// path, making its directory.
func (b *Browser) Screenshot(path string) {
	b.t.Helper()
	b.save(path, run(b, "screenshot", fullPage))
}

// ScreenshotWindow saves a PNG of what the window shows, exactly its size and
// scrolled as the page is, to path, making its directory: for pictures of a
// fixed size, such as those of the documentation.
func (b *Browser) ScreenshotWindow(path string) {
	b.t.Helper()
	b.save(path, run(b, "screenshot of the window", chromedp.CaptureScreenshot()))
}

func (b *Browser) save(path string, png []byte) {
	b.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatalf("browsertest: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("browsertest: screenshot: %v", err)
	}
}

// fullPage captures the whole page as PNG.
func fullPage(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		return nil, err
	}
	if m.CSSContentSize == nil {
		return nil, errors.New("the page reports no size")
	}
	res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		CaptureBeyondViewport: new(true),
		FromSurface:           new(true),
		Clip: &page.Viewport{
			Width:  m.CSSContentSize.Width,
			Height: m.CSSContentSize.Height,
			Scale:  1,
		},
	})
	return res.Data, err
}

// Do runs chromedp actions in the tab, for what the other methods do not
// cover, under the same timeout and with the same report when one fails.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.do("do", actions...)
}

func (b *Browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// run runs one action that returns a value, as Do does.
func run[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// fail stops the test with what the page looked like: its URL, the problems
// it reported, a screenshot and an excerpt of its HTML.
func (b *Browser) fail(what string, err error) {
	b.t.Helper()
	var msg strings.Builder
	fmt.Fprintf(&msg, "browsertest: %s: %v", what, err)
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(&msg, " (gave up after %s)", b.timeout)
	}
	if b.ctx.Err() != nil {
		// The browser is gone: what it printed may say why.
		fmt.Fprintf(&msg, "\nthe browser is gone; its output:\n%s", b.output)
		b.t.Fatal(msg.String())
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if url, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		fmt.Fprintf(&msg, "\nURL: %s", url)
	}
	b.mu.Lock()
	for _, p := range b.problems {
		fmt.Fprintf(&msg, "\nthe page reported: %s", p)
	}
	b.shots++
	n := b.shots
	b.mu.Unlock()
	if png, err := chromedp.Run(ctx, fullPage); err == nil {
		path := filepath.Join(b.t.ArtifactDir(), fmt.Sprintf("failure-%d.png", n))
		if err := os.WriteFile(path, png, 0o644); err == nil {
			fmt.Fprintf(&msg, "\nscreenshot: %s", path)
			if f := flag.Lookup("test.artifacts"); f == nil || f.Value.String() != "true" {
				msg.WriteString(" (removed with the test: go test -artifacts keeps it)")
			}
		}
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		fmt.Fprintf(&msg, "\nHTML: %s", abbreviate(html, 3000))
	}
	b.t.Fatal(msg.String())
}

// call renders a call of the JavaScript function fn with args as JSON.
func call(fn string, args ...any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		j, err := json.Marshal(a)
		if err != nil {
			panic(err) // only strings are passed
		}
		parts[i] = string(j)
	}
	return "(" + fn + ")(" + strings.Join(parts, ", ") + ")"
}

// abbreviate cuts s to at most n bytes, on a rune boundary, saying how much
// it left out.
func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", s[:cut], len(s)-cut)
}

func utf8RuneStart(c byte) bool { return c&0xC0 != 0x80 }

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tail) printf(format string, args ...any) {
	fmt.Fprintf(w, format+"\n", args...)
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
