package scripts

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
	lru "github.com/hashicorp/golang-lru/v2"
)

// ScriptName is the file name errors and stack traces give a transform.
const ScriptName = "transform.js"

// evaluator runs transforms inside a runner process. Compiled programs are
// cached by the script's hash; runtimes never are: every run gets a new
// goja runtime, so no global, prototype change or closure survives a run,
// whichever workspace the next run belongs to.
type evaluator struct {
	limits   Limits
	programs *lru.Cache[[sha256.Size]byte, *goja.Program]
}

func newEvaluator(l Limits) *evaluator {
	cache, _ := lru.New[[sha256.Size]byte, *goja.Program](256)
	return &evaluator{limits: l, programs: cache}
}

// program compiles src, or returns the cached compilation of the same text.
func (ev *evaluator) program(src string) (*goja.Program, error) {
	if len(src) > MaxScriptBytes {
		return nil, &Error{Kind: KindCompile, Message: fmt.Sprintf("the script is %d bytes; the limit is %d", len(src), MaxScriptBytes)}
	}
	key := sha256.Sum256([]byte(src))
	if p, ok := ev.programs.Get(key); ok {
		return p, nil
	}
	p, err := goja.Compile(ScriptName, src, false)
	if err != nil {
		return nil, compileError(err)
	}
	ev.programs.Add(key, p)
	return p, nil
}

// vm is one fresh runtime with the script loaded and its bindings installed.
type vm struct {
	rt        *goja.Runtime
	transform goja.Callable
	logs      *logBuffer
	timer     *time.Timer
}

// load makes a fresh runtime, arms the time limit and runs the script's top
// level, which the limit covers too. The caller stops v.timer when done.
func (ev *evaluator) load(src string) (*vm, error) {
	prog, err := ev.program(src)
	if err != nil {
		return nil, err
	}
	rt := goja.New()
	rt.SetMaxCallStackSize(ev.limits.MaxCallStack)
	v := &vm{rt: rt, logs: &logBuffer{maxLines: ev.limits.MaxLogLines, maxBytes: ev.limits.MaxLogBytes}}
	if err := installBindings(rt, v.logs); err != nil {
		return nil, fmt.Errorf("scripts: install bindings: %w", err)
	}
	v.timer = time.AfterFunc(ev.limits.Timeout, func() { rt.Interrupt(errTimeout) })
	if _, err := rt.RunProgram(prog); err != nil {
		v.timer.Stop()
		return nil, runError(err, ev.limits)
	}
	fn, ok := goja.AssertFunction(rt.Get("transform"))
	if !ok {
		v.timer.Stop()
		return nil, &Error{Kind: KindCompile, Message: "the script must define function transform(request, event)"}
	}
	v.transform = fn
	return v, nil
}

// check compiles src and runs its top level, proving it defines transform.
func (ev *evaluator) check(src string) *Error {
	v, err := ev.load(src)
	if err != nil {
		return asError(err)
	}
	v.timer.Stop()
	return nil
}

// run calls transform(request, event) in a fresh runtime and checks what it
// returns.
func (ev *evaluator) run(src string, req *Request, event map[string]any) Result {
	v, err := ev.load(src)
	if err != nil {
		return Result{Logs: []string{}, Err: asError(err)}
	}
	out, err := v.transform(goja.Undefined(), toJS(v.rt, req.jsValue()), toJS(v.rt, event))
	v.timer.Stop()
	res := Result{Logs: v.logs.lines()}
	if err != nil {
		res.Err = asError(runError(err, ev.limits))
		return res
	}
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
		res.Err = asError(err)
		return res
	}
	res.Request = r
	return res
}

func asError(err error) *Error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	return &Error{Kind: KindException, Message: err.Error()}
}

var errTimeout = errors.New("timeout")

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
		return timeLimitError(l)
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
