package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Kind says what went wrong in a page.
type Kind string

// The kinds of problem that fail a test.
const (
	// ConsoleError is a console.error or failed console.assert call, or an
	// error the browser logged for the page, such as a request that failed
	// or was answered 4xx or 5xx.
	ConsoleError Kind = "console error"
	// Exception is an exception nothing caught, or a promise rejection
	// nothing handled.
	Exception Kind = "uncaught exception"
	// CSPViolation is something the page's Content-Security-Policy blocked
	// (or, report-only, would have blocked): an inline script or event
	// handler, eval, a resource from another origin.
	CSPViolation Kind = "CSP violation"
)

// Problem is one thing that went wrong in the page.
type Problem struct {
	Kind Kind
	Text string
	URL  string // where it happened, when the browser says
	Line int64  // 1-based; 0 when unknown
}

func (p Problem) String() string {
	s := string(p.Kind) + ": " + p.Text
	switch {
	case p.URL != "" && p.Line > 0:
		s += fmt.Sprintf(" (%s:%d)", p.URL, p.Line)
	case p.URL != "":
		s += " (" + p.URL + ")"
	}
	return s
}

// Problems returns the problems the page reported since New or the last call,
// and forgets them, for a test that expects some: the problems left when the
// test ends fail it.
func (b *Browser) Problems() []Problem {
	b.t.Helper()
	if err := b.sync(b.timeout); err != nil {
		b.fail("collect problems", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ps := b.problems
	b.problems = nil
	return ps
}

// sync returns once every event the browser sent before now has reached
// observe: chromedp hands a tab's events to its listeners in order, before
// the answer to a later command.
func (b *Browser) sync(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	_, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: "0"})
	return err
}

// reportProblems fails the test with the problems no one took.
func (b *Browser) reportProblems() {
	b.t.Helper()
	if b.ctx.Err() == nil {
		_ = b.sync(10 * time.Second) // a browser gone by now has no more to say
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.problems) == 0 {
		return
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "browsertest: the page reported %d problem(s):", len(b.problems))
	for _, p := range b.problems {
		fmt.Fprintf(&msg, "\n\t%s", p)
	}
	b.t.Error(msg.String())
}

// observe keeps the problems among the tab's events. chromedp calls it in the
// loop that reads the tab's messages, so it only looks and appends.
func (b *Browser) observe(ev any) {
	p, ok := problemOf(ev)
	if !ok {
		return
	}
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

// problemOf tells whether a DevTools event is a problem of the page.
func problemOf(ev any) (Problem, bool) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return Problem{}, false
		}
		p := Problem{Kind: ConsoleError, Text: argsText(ev.Args)}
		if ev.Type == runtime.ConsoleAPICalledTypeAssert {
			p.Text = "assertion failed: " + p.Text
		}
		p.URL, p.Line = top(ev.StackTrace)
		return p, true

	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d == nil {
			return Problem{}, false
		}
		p := Problem{Kind: Exception, Text: d.Text, URL: d.URL, Line: d.LineNumber + 1}
		if d.Exception != nil {
			// The text is "Uncaught" or "Uncaught (in promise)"; the object is
			// the error, whose description begins with its message and goes on
			// with its stack.
			desc, _, _ := strings.Cut(valueText(d.Exception), "\n")
			p.Text = strings.TrimSpace(d.Text + " " + desc)
		}
		if p.URL == "" {
			p.URL, p.Line = top(d.StackTrace)
		}
		return p, true

	case *log.EventEntryAdded:
		e := ev.Entry
		if e == nil {
			return Problem{}, false
		}
		p := Problem{Text: e.Text, URL: e.URL, Line: e.LineNumber}
		if p.Line > 0 {
			p.Line++ // 0-based in the protocol, and 0 when unknown
		}
		switch {
		case isFavicon(e):
			return Problem{}, false
		case isCSPViolation(e):
			p.Kind = CSPViolation
		case e.Level == log.EntryLevelError:
			p.Kind = ConsoleError
			if strings.Contains(e.Text, "ERR_PROXY_CONNECTION_FAILED") {
				p.Text += " (the browser reaches loopback only)"
			}
		default:
			return Problem{}, false
		}
		return p, true
	}
	return Problem{}, false
}

// isCSPViolation tells a Content-Security-Policy violation among the browser's
// log entries: Chromium logs one, as an error or a report-only warning, from
// its security source.
func isCSPViolation(e *log.Entry) bool {
	return e.Source == log.EntrySourceSecurity &&
		(e.Level == log.EntryLevelError || e.Level == log.EntryLevelWarning) &&
		strings.Contains(e.Text, "Content Security Policy")
}

// isFavicon tells the failure of the request for /favicon.ico that Chromium
// makes on its own for a page that links no icon: it is not the page's.
func isFavicon(e *log.Entry) bool {
	if e.Source != log.EntrySourceNetwork {
		return false
	}
	u, err := url.Parse(e.URL)
	return err == nil && u.Path == "/favicon.ico"
}

// top returns the place of the innermost call of a stack trace, 1-based.
func top(st *runtime.StackTrace) (string, int64) {
	if st == nil || len(st.CallFrames) == 0 {
		return "", 0
	}
	f := st.CallFrames[0]
	return f.URL, f.LineNumber + 1
}

// argsText renders console arguments roughly as the DevTools console does.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = valueText(a)
	}
	return strings.Join(parts, " ")
}

// valueText renders one value: a string as it is, a primitive as its value,
// an object by its description.
func valueText(o *runtime.RemoteObject) string {
	if o == nil {
		return "null"
	}
	if o.Type == runtime.RemoteObjectTypeString {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
	}
	switch {
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}
