// Package scripts runs integrators' JavaScript transforms with goja.
//
// A transform is a script defining
//
//	function transform(request, event) { … return request; }
//
// that reshapes the HTTP request a delivery would send, or returns null to
// skip the delivery.
//
// A transform is hostile until proven otherwise, and goja can neither bound
// a script's memory nor interrupt its native code (a regular expression
// that backtracks, a join of a huge array). So scripts never run in the hub
// process: the Engine keeps a small pool of runner processes, the hub's own
// binary re-executed (see RunnerMain). Each runner caps its own memory with
// an OS limit, runs one job at a time in a fresh runtime, and answers over
// a pipe. The Engine stops a run that passes its time limit by killing the
// runner, and starts another: a script can fail only itself. Jobs are sent
// in batches so the pipe costs little under load.
package scripts

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Limits bound one run of a transform.
type Limits struct {
	// Timeout stops a run that takes longer, its top level included.
	Timeout time.Duration `json:"timeout"`
	// MemoryBytes caps a runner process's memory (its data segment, where
	// the Go heap and stacks live). A run that needs more ends the runner.
	MemoryBytes int64 `json:"memoryBytes"`
	// MaxLogLines and MaxLogBytes bound what console.log may capture.
	MaxLogLines int `json:"maxLogLines"`
	MaxLogBytes int `json:"maxLogBytes"`
	// MaxCallStack bounds recursion.
	MaxCallStack int `json:"maxCallStack"`
}

// DefaultLimits are used where a Limits field is zero.
var DefaultLimits = Limits{
	Timeout:      100 * time.Millisecond,
	MemoryBytes:  256 << 20,
	MaxLogLines:  100,
	MaxLogBytes:  16 << 10,
	MaxCallStack: 500,
}

// MaxScriptBytes bounds a transform's source.
const MaxScriptBytes = 64 << 10

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultLimits.Timeout
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = DefaultLimits.MemoryBytes
	}
	if l.MaxLogLines <= 0 {
		l.MaxLogLines = DefaultLimits.MaxLogLines
	}
	if l.MaxLogBytes <= 0 {
		l.MaxLogBytes = DefaultLimits.MaxLogBytes
	}
	if l.MaxCallStack <= 0 {
		l.MaxCallStack = DefaultLimits.MaxCallStack
	}
	return l
}

// killAfter is how long the Engine waits for a run before it kills the
// runner. The runner stops plain JavaScript itself at the time limit; this
// catches native code, which no interrupt reaches, with room for a busy
// machine.
func (l Limits) killAfter() time.Duration {
	return 2*l.Timeout + 100*time.Millisecond
}

// queueWait is the part of runBound left for waiting for a runner: behind
// other jobs, or for a runner to start.
const queueWait = 10 * time.Second

// runBound is the longest Run waits, whatever its context: queueWait, then
// a few kill deadlines, for a job whose runner was killed for another job
// and which runs again elsewhere. A run past it fails as unavailable, so
// the caller tries again later rather than hold a worker.
func (l Limits) runBound() time.Duration {
	return queueWait + 4*l.killAfter()
}

// Options configure an Engine.
type Options struct {
	Limits Limits
	// Runners is the number of runner processes (default 2).
	Runners int
	// Command starts a runner: an executable that calls RunnerMain first
	// thing, and its arguments. Default: this process's own executable.
	Command []string
	Log     *slog.Logger
	// Registerer, if set, receives the engine's metrics.
	Registerer prometheus.Registerer
}

// Engine runs transforms in a pool of runner processes. It is safe for
// concurrent use. Runners start on first use.
type Engine struct {
	opts   Options
	limits Limits
	log    *slog.Logger
	// Scripts run in the regular lane, except those that recently hit a
	// limit: they run in a lane of their own, with one runner, so a script
	// that keeps stalling or exhausting its runner delays only itself.
	regular, suspect *lane
	suspects         *lru.Cache[[sha256.Size]byte, time.Time]
	nextID           atomic.Uint64
	// bound is the longest a run waits (runBound).
	bound time.Duration

	startOnce sync.Once
	closeOnce sync.Once
	closed    chan struct{}
	slots     sync.WaitGroup

	runs     *prometheus.CounterVec
	restarts prometheus.Counter
}

// lane is a queue of jobs and the runners that serve it.
type lane struct {
	runners int
	jobs    chan *job
	// failFast refuses a job when the queue is full, rather than wait.
	failFast bool
	// displaced holds jobs a dying runner never started; the lane's runners
	// take them before new jobs, so they wait for no one's restart.
	displaced chan *job
}

func newLane(runners, queue int) *lane {
	return &lane{runners: runners, jobs: make(chan *job, queue), displaced: make(chan *job, maxBatch*max(runners, 2))}
}

// suspectFor is how long a script that hit a limit runs in the suspect lane.
const suspectFor = 10 * time.Minute

// maxBatch bounds the jobs one runner is handed at a time.
const maxBatch = 32

// NewEngine makes an engine; Close stops its runners.
func NewEngine(opts Options) *Engine {
	if opts.Runners <= 0 {
		opts.Runners = 2
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		opts:    opts,
		limits:  opts.Limits.withDefaults(),
		log:     opts.Log,
		regular: newLane(opts.Runners, 4*maxBatch),
		// A suspect script's jobs may each take a kill deadline: few wait,
		// and the rest are refused at once (errSuspectBusy).
		suspect: &lane{runners: 1, jobs: make(chan *job, maxBatch/4), displaced: make(chan *job, 2*maxBatch), failFast: true},
		closed:  make(chan struct{}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_transform_runs_total",
			Help: "Transform runs and checks by outcome.",
		}, []string{"outcome"}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_transform_runner_starts_total",
			Help: "Transform runner processes started, first starts included.",
		}),
	}
	e.bound = e.limits.runBound()
	e.suspects, _ = lru.New[[sha256.Size]byte, time.Time](4096)
	for _, o := range outcomes {
		e.runs.WithLabelValues(o)
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(e.runs, e.restarts)
	}
	return e
}

// Limits returns the engine's limits.
func (e *Engine) Limits() Limits { return e.limits }

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

// Error kinds. A run's failure is the script's (compile, exception,
// invalid_result, timeout, memory, crashed) or the engine's (unavailable,
// cancelled); only the engine's are worth trying again.
const (
	KindCompile     = "compile"
	KindException   = "exception"
	KindResult      = "invalid_result"
	KindTimeout     = "timeout"
	KindMemory      = "memory"
	KindCrashed     = "crashed"
	KindUnavailable = "unavailable"
	KindCancelled   = "cancelled"
)

// outcomes are the values of the runs metric's label.
var outcomes = []string{"ok", "skipped", KindCompile, KindException, KindResult, KindTimeout, KindMemory, KindCrashed, KindUnavailable, KindCancelled}

// Error is a failed run, with the line and column where the script reports one.
type Error struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (%s line %d, column %d)", e.Message, ScriptName, e.Line, e.Column)
	}
	return e.Message
}

// Temporary reports a failure of the engine rather than of the script.
func (e *Error) Temporary() bool { return e.Kind == KindUnavailable || e.Kind == KindCancelled }

// Limit reports a run stopped for exceeding a resource limit.
func (e *Error) Limit() bool {
	return e.Kind == KindTimeout || e.Kind == KindMemory || e.Kind == KindCrashed
}

func timeLimitError(l Limits) *Error {
	return &Error{Kind: KindTimeout, Message: fmt.Sprintf("transform exceeded its time limit of %s", l.Timeout)}
}

func memoryLimitError(l Limits) *Error {
	return &Error{Kind: KindMemory, Message: fmt.Sprintf("transform exceeded its memory limit of %d MiB", l.MemoryBytes>>20)}
}

var (
	errCancelled   = &Error{Kind: KindCancelled, Message: "transform was cancelled"}
	errClosed      = &Error{Kind: KindUnavailable, Message: "transform engine is shut down"}
	errSuspectBusy = &Error{Kind: KindUnavailable, Message: "transform sandbox busy: this script recently hit a limit, or too many scripts are being tried; try again shortly"}
	// errPastBound is the cause of a run's context ending at runBound.
	errPastBound = errors.New("scripts: run bound passed")
)

// job is one run or check waiting for a runner.
type job struct {
	ctx  context.Context
	wire wireJob
	done chan wireResult // buffered: a runner never waits for a caller
}

// Check compiles src and runs its top level in a runner, proving that it
// defines transform. The error, if any, is an *Error.
func (e *Engine) Check(ctx context.Context, src string) error {
	if err := checkSize(src); err != nil {
		return err
	}
	res := e.do(ctx, wireJob{Check: true, Script: src})
	e.count(res)
	if res.Err != nil {
		return res.Err
	}
	return nil
}

// Run calls transform(request, event) in a fresh runtime of a runner and
// checks what it returns. The request passed in is not modified.
func (e *Engine) Run(ctx context.Context, src string, req *Request, event map[string]any) Result {
	if err := checkSize(src); err != nil {
		return Result{Logs: []string{}, Err: err}
	}
	w, err := toWire(req)
	if err != nil {
		return Result{Logs: []string{}, Err: &Error{Kind: KindResult, Message: err.Error()}}
	}
	res := e.do(ctx, wireJob{Script: src, Request: w, Event: event})
	e.count(res)
	out := Result{Skipped: res.Skipped, Logs: res.Logs}
	if out.Logs == nil {
		out.Logs = []string{}
	}
	if res.Err != nil {
		out.Err = res.Err
		return out
	}
	if !res.Skipped {
		if out.Request, err = fromWire(res.Request, false); err != nil || out.Request == nil {
			out.Err = &Error{Kind: KindResult, Message: "transform runner sent no request"}
		}
	}
	return out
}

func checkSize(src string) *Error {
	if len(src) > MaxScriptBytes {
		return &Error{Kind: KindCompile, Message: fmt.Sprintf("the script is %d bytes; the limit is %d", len(src), MaxScriptBytes)}
	}
	return nil
}

func (e *Engine) count(res wireResult) {
	switch {
	case res.Err != nil:
		e.runs.WithLabelValues(res.Err.Kind).Inc()
	case res.Skipped:
		e.runs.WithLabelValues("skipped").Inc()
	default:
		e.runs.WithLabelValues("ok").Inc()
	}
}

// do queues a job and waits for its result, for runBound at most. A caller
// whose context ends stops waiting, and its job is dropped if no runner has
// taken it; else the runner may still finish the job, and its result is
// dropped. No runtime outlives its job, so nothing of a cancelled run can
// reach another.
func (e *Engine) do(ctx context.Context, w wireJob) wireResult {
	select {
	case <-e.closed:
		return wireResult{Err: errClosed}
	default:
	}
	e.startOnce.Do(e.start)
	ctx, cancel := context.WithTimeoutCause(ctx, e.bound, errPastBound)
	defer cancel()
	w.ID = e.nextID.Add(1)
	j := &job{ctx: ctx, wire: w, done: make(chan wireResult, 1)}
	key := suspectKey(ctx, w.Script)
	l := e.regular
	if until, ok := e.suspects.Get(key); ok && time.Now().Before(until) || w.Check || ctx.Value(interactiveKey{}) != nil {
		l = e.suspect
	}
	res := e.wait(ctx, l, j)
	if res.Err != nil && res.Err.Limit() {
		e.suspects.Add(key, time.Now().Add(suspectFor))
	}
	return res
}

type ownerKey struct{}

type interactiveKey struct{}

// Interactive marks runs that someone is waiting on (a transform test over
// the API). Like Check, which proves a script before it is saved, they run
// in the suspect lane, never beside deliveries: their scripts are neither
// saved nor proven, and anyone with an admin token can send one after
// another. When that lane is busy they are refused at once, as a temporary
// error, rather than queue.
func Interactive(ctx context.Context) context.Context {
	return context.WithValue(ctx, interactiveKey{}, true)
}

// WithOwner names who runs the scripts called with ctx (the workspace): a
// script that hits a limit is suspect for its owner only, so running
// someone else's script text on a hostile event cannot slow that
// workspace's runs.
func WithOwner(ctx context.Context, owner string) context.Context {
	return context.WithValue(ctx, ownerKey{}, owner)
}

// suspectKey identifies a script of one owner in the suspect list.
func suspectKey(ctx context.Context, src string) [sha256.Size]byte {
	owner, _ := ctx.Value(ownerKey{}).(string)
	h := sha256.New()
	h.Write([]byte(owner))
	h.Write([]byte{0})
	h.Write([]byte(src))
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}

func (e *Engine) wait(ctx context.Context, l *lane, j *job) wireResult {
	if l.failFast {
		select {
		case l.jobs <- j:
		default:
			return wireResult{Err: errSuspectBusy}
		}
	} else {
		select {
		case l.jobs <- j:
		case <-ctx.Done():
			return wireResult{Err: e.ended(ctx)}
		case <-e.closed:
			return wireResult{Err: errClosed}
		}
	}
	select {
	case res := <-j.done:
		return res
	case <-ctx.Done():
		return wireResult{Err: e.ended(ctx)}
	case <-e.closed:
		return wireResult{Err: errClosed}
	}
}

// ended is the error of a run whose context ended: the caller's doing, or
// the engine's bound.
func (e *Engine) ended(ctx context.Context) *Error {
	if errors.Is(context.Cause(ctx), errPastBound) {
		return &Error{Kind: KindUnavailable, Message: fmt.Sprintf("transform sandbox busy: no answer within %s", e.bound)}
	}
	return errCancelled
}

func (e *Engine) start() {
	for _, l := range []*lane{e.regular, e.suspect} {
		for range l.runners {
			e.slots.Add(1)
			go func() {
				defer e.slots.Done()
				e.serve(l)
			}()
		}
	}
}

// Close stops the runners. Runs in progress end as cancelled.
func (e *Engine) Close() {
	e.closeOnce.Do(func() { close(e.closed) })
	e.slots.Wait()
}

// serve is one runner slot of lane l: it takes batches of jobs, keeps a
// runner process for them and replaces it whenever it dies.
func (e *Engine) serve(l *lane) {
	var p *runner
	defer func() {
		if p != nil {
			p.stop()
		}
	}()
	var carry []*job
	backoff := 100 * time.Millisecond
	for {
		batch := carry
		carry = nil
		if len(batch) == 0 {
			select {
			case j := <-l.displaced:
				batch = append(batch, j)
			case j := <-l.jobs:
				batch = append(batch, j)
			case <-e.closed:
				return
			}
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case j := <-l.displaced:
				batch = append(batch, j)
				continue
			default:
			}
			select {
			case j := <-l.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		batch = e.dropCancelled(batch)
		if len(batch) == 0 {
			continue
		}
		if p == nil {
			var err error
			if p, err = e.spawn(); err != nil {
				e.log.Error("start transform runner", "err", err)

				for _, j := range batch {
					j.done <- wireResult{Err: &Error{Kind: KindUnavailable, Message: "transform runner could not start"}}
				}
				select {
				case <-time.After(backoff):
				case <-e.closed:
					return
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
		}
		left, died := e.runBatch(p, batch)
		if died {
			p = nil
			// Hand the jobs the runner never started to whichever runner is
			// free; keep what does not fit.
			for _, j := range left {
				select {
				case l.displaced <- j:
				default:
					carry = append(carry, j)
				}
			}
		}
	}
}

func (e *Engine) dropCancelled(batch []*job) []*job {
	kept := batch[:0]
	for _, j := range batch {
		if j.ctx.Err() != nil {
			j.done <- wireResult{Err: errCancelled}
			continue
		}
		kept = append(kept, j)
	}
	return kept
}

// runBatch hands batch to p and answers each job as its result arrives. If
// p dies, the job it was running is answered with the reason, and the jobs
// it never started are returned to run elsewhere.
func (e *Engine) runBatch(p *runner, batch []*job) (carry []*job, died bool) {
	frames := make([][]byte, 0, len(batch))
	kept := batch[:0]
	for _, j := range batch {
		raw, err := json.Marshal(j.wire)
		if err == nil && len(raw) > maxJobFrame {
			err = fmt.Errorf("%d bytes; the limit is %d", len(raw), maxJobFrame)
		}
		if err != nil {
			j.done <- wireResult{ID: j.wire.ID, Err: &Error{Kind: KindResult, Message: fmt.Sprintf("transform input cannot be sent to a runner: %v", err)}}
			continue
		}
		frames, kept = append(frames, raw), append(kept, j)
	}
	batch = kept
	if len(batch) == 0 {
		return nil, false
	}
	// The deadline runs from the start, the writing included: a runner
	// stuck in native code reads no more, and a batch larger than the pipe
	// would block a write made here for good. So a goroutine writes, and the
	// watchdog, armed first, kills the runner, which ends the write too.
	watchdog := time.NewTimer(e.limits.killAfter())
	defer watchdog.Stop()
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		if err := p.write(frames); err != nil {
			e.log.Debug("write to transform runner", "err", err)
		}
	}()
	defer func() { <-wrote }()
	killed := false
	for i := 0; i < len(batch); {
		select {
		case res, ok := <-p.results:
			if ok && res.ID == batch[i].wire.ID {
				batch[i].done <- res
				i++
				if res.Retire {
					p.stop()
					return batch[i:], true
				}
				if !killed {
					watchdog.Reset(e.limits.killAfter())
				}
				continue
			}
			if ok {
				// A runner that answers out of order is broken; it is replaced.
				e.log.Error("transform runner answered out of order", "got", res.ID, "want", batch[i].wire.ID)
				p.kill(0)
			}
			<-p.exited
			cause := p.cause(e.limits, batch[i].wire.ID)
			if cause == nil {
				// The runner was killed for an earlier job, whose result came
				// in just the same: this job is not to blame; it runs elsewhere.
				return batch[i:], true
			}
			e.log.Warn("transform runner stopped", "reason", cause.Message, "stderr", p.stderr.reason())
			batch[i].done <- wireResult{ID: batch[i].wire.ID, Err: cause}
			return batch[i+1:], true
		case <-watchdog.C:
			// Only the job running now is past its deadline.
			killed = true
			p.kill(batch[i].wire.ID)
		}
	}
	return nil, false
}

// runner is one runner process.
type runner struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	in      *bufio.Writer
	results chan wireResult // closed when the runner's output ends
	exited  chan struct{}   // closed once the output has ended and the process is reaped
	stderr  *headBuffer
	// killedFor is the job whose deadline passed, if the runner was
	// killed for one.
	killedFor atomic.Uint64
}

// spawn starts a runner with a clean environment and waits for its hello.
func (e *Engine) spawn() (*runner, error) {
	argv := e.opts.Command
	if len(argv) == 0 {
		exe, err := ownExecutable()
		if err != nil {
			return nil, fmt.Errorf("scripts: find own executable: %w", err)
		}
		argv = []string{exe}
	}
	spec, _ := json.Marshal(e.limits)
	cmd := exec.Command(argv[0], argv[1:]...)
	// Nothing of the hub's environment (database URL, tokens) reaches a runner.
	cmd.Env = []string{runnerEnv + "=" + string(spec), "GOMAXPROCS=1", "GOTRACEBACK=none"}
	cmd.SysProcAttr = runnerSysProcAttr()
	p := &runner{cmd: cmd, results: make(chan wireResult, maxBatch), exited: make(chan struct{}), stderr: &headBuffer{max: 1 << 10}}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("scripts: start runner %s: stdin: %w", argv[0], err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		stdin.Close()
		return nil, fmt.Errorf("scripts: start runner %s: stdout: %w", argv[0], err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("scripts: start runner %s: %w", argv[0], err)
	}
	e.restarts.Inc()
	p.stdin, p.in = stdin, bufio.NewWriterSize(stdin, 64<<10)
	hello := make(chan error, 1)
	go func() {
		p.read(bufio.NewReaderSize(stdout, 64<<10), hello)
		// Wait closes stdout; only now has every result been read. A
		// runner that retires writes its last result just before it exits.
		p.cmd.Wait()
		close(p.exited)
	}()
	select {
	case err := <-hello:
		if err == nil {
			return p, nil
		}
		p.kill(0)
		<-p.exited
		return nil, fmt.Errorf("scripts: start runner %s: %w (stderr: %q)", argv[0], err, p.stderr.reason())
	case <-time.After(10 * time.Second):
		p.kill(0)
		<-p.exited
		return nil, fmt.Errorf("scripts: start runner %s: no hello within 10s", argv[0])
	}
}

// read passes the runner's results on until its output ends.
func (p *runner) read(r *bufio.Reader, hello chan<- error) {
	defer close(p.results)
	var buf []byte
	var first wireResult
	if err := readFrame(r, maxResultFrame, &buf, &first); err != nil || first.ID != 0 {
		if err == nil {
			err = fmt.Errorf("first frame is result %d", first.ID)
		}
		hello <- fmt.Errorf("no hello: %w", err)
		return
	}
	hello <- nil
	for {
		var res wireResult
		if err := readFrame(r, maxResultFrame, &buf, &res); err != nil {
			if !errors.Is(err, io.EOF) {
				p.kill(0) // an oversized or garbled frame: the runner is not to be trusted
			}
			return
		}
		p.results <- res
	}
}

// kill ends the runner at once; overdue is the job whose deadline passed,
// or 0 if none did.
func (p *runner) kill(overdue uint64) {
	if overdue != 0 {
		p.killedFor.CompareAndSwap(0, overdue)
	}
	p.cmd.Process.Kill()
}

// write hands the runner its jobs, as encoded frames.
func (p *runner) write(frames [][]byte) error {
	for _, raw := range frames {
		if err := writeRawFrame(p.in, raw); err != nil {
			return err
		}
	}
	if err := p.in.Flush(); err != nil {
		return fmt.Errorf("scripts: write frame: %w", err)
	}
	return nil
}

// stop ends a runner: its input closes, so it exits; it is killed if not.
func (p *runner) stop() {
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(time.Second):
		p.kill(0)
		<-p.exited
	}
}

// cause explains why a runner died while running job id, or is nil if
// the runner was killed for another job's deadline.
func (p *runner) cause(l Limits, id uint64) *Error {
	switch reason, killedFor := p.stderr.reason(), p.killedFor.Load(); {
	case killedFor == id:
		return timeLimitError(l)
	case killedFor != 0:
		return nil
	case strings.Contains(reason, "out of memory"), strings.Contains(reason, "cannot allocate memory"),
		strings.Contains(reason, "cannot map"), strings.Contains(reason, "stack exceeds"), strings.Contains(reason, "stack overflow"),
		// A runner is pure Go: it faults only when the runtime's own
		// mapping of memory fails against the data-segment cap.
		strings.Contains(reason, "SIGSEGV"), strings.Contains(reason, "SIGBUS"):
		return memoryLimitError(l)
	default:
		return &Error{Kind: KindCrashed, Message: "transform stopped its runner unexpectedly"}
	}
}

// headBuffer keeps the first bytes a runner writes to stderr, where Go
// puts the reason of a fatal error ("fatal error: runtime: out of memory")
// before the goroutine dump that follows; the rest is dropped.
type headBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (h *headBuffer) Write(b []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, b[:min(len(b), room)]...)
	}
	return len(b), nil
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return string(h.buf)
}

// reason is the first line that says why the runner ended.
func (h *headBuffer) reason() string {
	for _, line := range strings.Split(h.String(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}
