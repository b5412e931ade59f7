package scripts

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/metrics"
)

// runnerEnv marks a process the hub started as a transform runner; its
// value is the runner's Limits as JSON.
const runnerEnv = "SWITCHBOARD_TRANSFORM_RUNNER"

// RunnerMain turns this process into a transform runner when the hub
// started it as one, and then never returns. Otherwise it returns at once.
// Call it first thing in main, and in TestMain of every test binary that
// runs transforms, since the hub starts runners by re-executing its own
// binary.
func RunnerMain() {
	spec, ok := os.LookupEnv(runnerEnv)
	if !ok {
		return
	}
	var l Limits
	if err := json.Unmarshal([]byte(spec), &l); err != nil {
		fmt.Fprintln(os.Stderr, "transform runner: bad limits:", err)
		os.Exit(2)
	}
	l = l.withDefaults()
	if err := confine(l); err != nil {
		fmt.Fprintln(os.Stderr, "transform runner: confine:", err)
		os.Exit(2)
	}
	if err := serveRunner(os.Stdin, os.Stdout, l); err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(os.Stderr, "transform runner:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serveRunner answers jobs until its input ends: one at a time, each in a
// fresh runtime, each result flushed as soon as it is ready so that the
// hub's watchdog sees progress job by job.
func serveRunner(in io.Reader, out io.Writer, l Limits) error {
	ev := newEvaluator(l)
	retireAt := mappedBytes() + l.MemoryBytes/2
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriterSize(out, 64<<10)
	// Hello: the hub waits for it before handing over jobs, so a runner's
	// start-up never counts against a job's time limit.
	if err := writeFrame(w, wireResult{}); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	var buf []byte
	for {
		var job wireJob
		if err := readFrame(r, maxJobFrame, &buf, &job); err != nil {
			return err
		}
		res := runJob(ev, &job)
		// Go keeps the memory a run grew its heap to, and the OS limit
		// counts it. A runner past half its limit retires rather than let
		// the next job, someone else's perhaps, hit the limit in its stead.
		res.Retire = mappedBytes() > retireAt
		if err := writeFrame(w, res); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if res.Retire {
			return nil
		}
	}
}

var mappedSample = []metrics.Sample{{Name: "/memory/classes/total:bytes"}}

// mappedBytes is the memory the Go runtime has mapped, which is what the
// runner's OS limit counts.
func mappedBytes() int64 {
	metrics.Read(mappedSample)
	return int64(mappedSample[0].Value.Uint64())
}

// maxMessageBytes bounds an error's message, which quotes what a script
// threw, so that the result frame stays within its bound.
const maxMessageBytes = 4 << 10

func runJob(ev *evaluator, job *wireJob) (res wireResult) {
	res.ID = job.ID
	defer func() {
		if res.Err != nil {
			res.Err.Message = clipTo(res.Err.Message, maxMessageBytes)
		}
	}()
	defer func() {
		// goja reports script errors as values; a panic is a bug in the
		// engine, and costs this run only.
		if p := recover(); p != nil {
			res = wireResult{ID: job.ID, Err: &Error{Kind: KindException, Message: fmt.Sprintf("internal error in the script engine: %v", p)}}
		}
	}()
	if job.Check {
		res.Err = ev.check(job.Script)
		return res
	}
	req, err := fromWire(job.Request, true)
	if err != nil || req == nil {
		res.Err = &Error{Kind: KindException, Message: fmt.Sprintf("bad job: %v", err)}
		return res
	}
	out := ev.run(job.Script, req, job.Event)
	res.Skipped, res.Logs, res.Err = out.Skipped, out.Logs, asError(out.Err)
	if out.Request != nil {
		res.Request, err = toWire(out.Request)
		if err != nil {
			res.Request, res.Err = nil, &Error{Kind: KindResult, Message: err.Error()}
		}
	}
	return res
}
