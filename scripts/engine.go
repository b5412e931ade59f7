// Package scripts runs integrators' JavaScript transforms with goja.
//
// A transform is a script defining
//
//	function transform(request, event) { … return request; }
//
// that reshapes the HTTP request a delivery would send, or returns null to
// skip the delivery. Scripts are compiled once per version and run on pooled
// runtimes; each run has a time limit, bounded console output and bounded
// string building, and no access to the network, files or processes (goja
// provides none, and none is installed).
package scripts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Limits bound one run of a transform.
type Limits struct {
	// Timeout stops a run that takes longer.
	Timeout time.Duration
	// MaxLogLines and MaxLogBytes bound what console.log may capture.
	MaxLogLines int
	MaxLogBytes int
	// MaxStringBytes bounds strings built with repeat, padStart and padEnd.
	MaxStringBytes int
	// MaxCallStack bounds recursion.
	MaxCallStack int
}

// DefaultLimits are used where a Limits field is zero.
var DefaultLimits = Limits{
	Timeout:        100 * time.Millisecond,
	MaxLogLines:    100,
	MaxLogBytes:    16 << 10,
	MaxStringBytes: 1 << 20,
	MaxCallStack:   500,
}

// Engine compiles and runs transforms. It is safe for concurrent use.
type Engine struct {
	limits  Limits
	scripts *lru.Cache[string, *Script]
}

// NewEngine makes an engine with the given limits.
func NewEngine(l Limits) *Engine {
	if l.Timeout <= 0 {
		l.Timeout = DefaultLimits.Timeout
	}
	if l.MaxLogLines <= 0 {
		l.MaxLogLines = DefaultLimits.MaxLogLines
	}
	if l.MaxLogBytes <= 0 {
		l.MaxLogBytes = DefaultLimits.MaxLogBytes
	}
	if l.MaxStringBytes <= 0 {
		l.MaxStringBytes = DefaultLimits.MaxStringBytes
	}
	if l.MaxCallStack <= 0 {
		l.MaxCallStack = DefaultLimits.MaxCallStack
	}
	cache, _ := lru.New[string, *Script](512)
	return &Engine{limits: l, scripts: cache}
}

// Limits returns the engine's limits.
func (e *Engine) Limits() Limits { return e.limits }

// ScriptName is the file name errors and stack traces give a transform.
const ScriptName = "transform.js"

// Script is a compiled transform with its own pool of runtimes, so that
// different scripts never share a global scope.
type Script struct {
	hash    string
	program *goja.Program
	pool    sync.Pool
}

// Compile compiles src, or returns the cached compilation of the same text.
// It checks that the script defines function transform.
func (e *Engine) Compile(src string) (*Script, error) {
	sum := sha256.Sum256([]byte(src))
	hash := hex.EncodeToString(sum[:])
	if s, ok := e.scripts.Get(hash); ok {
		return s, nil
	}
	prog, err := goja.Compile(ScriptName, src, false)
	if err != nil {
		return nil, compileError(err)
	}
	s := &Script{hash: hash, program: prog}
	s.pool.New = func() any { return nil }
	// Prove the script defines transform now, not at the first delivery.
	v, err := e.newVM(s)
	if err != nil {
		return nil, err
	}
	s.pool.Put(v)
	e.scripts.Add(hash, s)
	return s, nil
}

// vm is one runtime with the script loaded and its bindings installed.
type vm struct {
	rt        *goja.Runtime
	transform goja.Callable
	logs      *logBuffer
}

func (e *Engine) newVM(s *Script) (*vm, error) {
	rt := goja.New()
	rt.SetMaxCallStackSize(e.limits.MaxCallStack)
	v := &vm{rt: rt, logs: &logBuffer{maxLines: e.limits.MaxLogLines, maxBytes: e.limits.MaxLogBytes}}
	if err := installBindings(rt, v.logs, e.limits); err != nil {
		return nil, fmt.Errorf("scripts: install bindings: %w", err)
	}
	timer := time.AfterFunc(e.limits.Timeout, func() { rt.Interrupt(errTimeout) })
	_, err := rt.RunProgram(s.program)
	timer.Stop()
	rt.ClearInterrupt()
	if err != nil {
		return nil, runError(err, e.limits)
	}
	fn, ok := goja.AssertFunction(rt.Get("transform"))
	if !ok {
		return nil, &Error{Kind: KindCompile, Message: "the script must define function transform(request, event)"}
	}
	v.transform = fn
	v.logs.reset()
	return v, nil
}

func (e *Engine) getVM(s *Script) (*vm, error) {
	if v, ok := s.pool.Get().(*vm); ok && v != nil {
		return v, nil
	}
	return e.newVM(s)
}

// Result is the outcome of one run.
type Result struct {
	// Request is what to send; nil when the script skipped the delivery or failed.
	Request *Request
	// Skipped is set when the script returned null.
	Skipped bool
	// Logs is what the script printed with console.*.
	Logs []string
	// Err is set when the script failed; it is an *Error.
	Err error
}

var errTimeout = errors.New("timeout")

// Run calls transform(request, event) and checks what it returns. The
// request passed in is not modified.
func (e *Engine) Run(ctx context.Context, s *Script, req *Request, event map[string]any) Result {
	v, err := e.getVM(s)
	if err != nil {
		return Result{Err: err}
	}
	v.logs.reset()
	rt := v.rt

	stop := make(chan struct{})
	timer := time.AfterFunc(e.limits.Timeout, func() { rt.Interrupt(errTimeout) })
	if done := ctx.Done(); done != nil {
		go func() {
			select {
			case <-done:
				rt.Interrupt(ctx.Err())
			case <-stop:
			}
		}()
	}
	out, err := v.transform(goja.Undefined(), toJS(rt, req.jsValue()), toJS(rt, event))
	interrupted := !timer.Stop()
	close(stop)
	rt.ClearInterrupt()

	res := Result{Logs: v.logs.lines()}
	if err != nil {
		res.Err = runError(err, e.limits)
		// An interrupted runtime may be mid-way through anything: drop it.
		var ie *goja.InterruptedError
		if !errors.As(err, &ie) && !interrupted {
			s.pool.Put(v)
		}
		return res
	}
	s.pool.Put(v)
	if goja.IsNull(out) {
		res.Skipped = true
		return res
	}
	if goja.IsUndefined(out) {
		res.Err = &Error{Kind: KindResult, Message: "transform returned nothing; return the request to send, or null to skip"}
		return res
	}
	r, err := requestFromJS(out.Export())
	if err != nil {
		res.Err = err
		return res
	}
	res.Request = r
	return res
}

// Error kinds.
const (
	KindCompile   = "compile"
	KindException = "exception"
	KindTimeout   = "timeout"
	KindResult    = "invalid_result"
)

// Error is a script failure, with the line and column where the script
// reports one.
type Error struct {
	Kind    string
	Message string
	Line    int
	Column  int
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (%s line %d, column %d)", e.Message, ScriptName, e.Line, e.Column)
	}
	return e.Message
}

// syntaxPos finds "Line 2:13 message" in goja's parser errors.
var syntaxPos = regexp.MustCompile(`Line (\d+):(\d+) (.*)$`)

func compileError(err error) error {
	msg := err.Error()
	e := &Error{Kind: KindCompile, Message: "SyntaxError: " + strings.TrimPrefix(msg, "SyntaxError: ")}
	if m := syntaxPos.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Column, _ = strconv.Atoi(m[2])
		e.Message = "SyntaxError: " + strings.TrimSuffix(m[3], " (and 1 more errors)")
	}
	return e
}

func runError(err error, l Limits) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		if ie.Value() == errTimeout {
			return &Error{Kind: KindTimeout, Message: fmt.Sprintf("transform ran longer than %s and was stopped", l.Timeout)}
		}
		return &Error{Kind: KindTimeout, Message: "transform was cancelled"}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		e := &Error{Kind: KindException, Message: exceptionMessage(ex)}
		for _, f := range ex.Stack() {
			if f.SrcName() == ScriptName {
				pos := f.Position()
				e.Line, e.Column = pos.Line, pos.Column
				break
			}
		}
		return e
	}
	var se *goja.StackOverflowError
	if errors.As(err, &se) {
		return &Error{Kind: KindException, Message: "RangeError: maximum call stack size exceeded"}
	}
	return &Error{Kind: KindException, Message: err.Error()}
}

// exceptionMessage is the thrown value as JavaScript would print it, without the stack.
func exceptionMessage(ex *goja.Exception) string {
	v := ex.Value()
	if v == nil {
		return ex.Error()
	}
	if o, ok := v.(*goja.Object); ok {
		name, msg := o.Get("name"), o.Get("message")
		if msg != nil && !goja.IsUndefined(msg) {
			if name != nil && !goja.IsUndefined(name) {
				return name.String() + ": " + msg.String()
			}
			return msg.String()
		}
	}
	return "Uncaught " + v.String()
}
