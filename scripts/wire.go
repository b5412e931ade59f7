package scripts

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
)

// The hub and a runner exchange length-prefixed JSON frames over the
// runner's stdin and stdout: jobs one way, results the other, each result
// in the order of its job. Frames are bounded both ways, so neither side
// allocates what the other asks.
const (
	maxJobFrame    = 8 << 20
	maxResultFrame = 4 << 20
)

// wireJob is one run or check sent to a runner.
type wireJob struct {
	ID      uint64         `json:"id"`
	Check   bool           `json:"check,omitempty"`
	Script  string         `json:"script"`
	Request *wireRequest   `json:"request,omitempty"`
	Event   map[string]any `json:"event,omitempty"`
}

// wireResult is a runner's answer to one job.
type wireResult struct {
	ID      uint64       `json:"id"`
	Request *wireRequest `json:"request,omitempty"`
	Skipped bool         `json:"skipped,omitempty"`
	Logs    []string     `json:"logs,omitempty"`
	Err     *Error       `json:"error,omitempty"`
	// Retire says the runner exits after this result: the job left it
	// holding too much memory to run another safely.
	Retire bool `json:"retire,omitempty"`
}

type wireRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Params  map[string]string `json:"params,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

func toWire(r *Request) (*wireRequest, error) {
	if r == nil {
		return nil, nil
	}
	w := &wireRequest{Method: r.Method, URL: r.URL, Params: r.Params, Headers: r.Headers}
	if r.Body != nil {
		raw, err := json.Marshal(r.Body)
		if err != nil {
			return nil, fmt.Errorf("scripts: encode request body: %w", err)
		}
		w.Body = raw
	}
	return w, nil
}

// fromWire turns a wire request back into a Request. decodeBody asks for the
// body as plain JSON values (a runner hands those to the script); otherwise
// it stays raw JSON, ready to send.
func fromWire(w *wireRequest, decodeBody bool) (*Request, error) {
	if w == nil {
		return nil, nil
	}
	r := &Request{Method: w.Method, URL: w.URL, Params: w.Params, Headers: w.Headers}
	if r.Params == nil {
		r.Params = map[string]string{}
	}
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	if len(w.Body) == 0 {
		return r, nil
	}
	if !decodeBody {
		r.Body = w.Body
		return r, nil
	}
	d := json.NewDecoder(bytes.NewReader(w.Body))
	d.UseNumber()
	if err := d.Decode(&r.Body); err != nil {
		return nil, fmt.Errorf("scripts: decode request body: %w", err)
	}
	return r, nil
}

// writeFrame writes v as one frame; the caller flushes.
func writeFrame(w *bufio.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("scripts: encode frame: %w", err)
	}
	return writeRawFrame(w, raw)
}

// writeRawFrame writes raw, a JSON value, as one frame; the caller flushes.
func writeRawFrame(w *bufio.Writer, raw []byte) error {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(raw)))
	if _, err := w.Write(n[:]); err != nil {
		return fmt.Errorf("scripts: write frame: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("scripts: write frame: %w", err)
	}
	return nil
}

// readFrame reads one frame into v, refusing frames over limit.
func readFrame(r *bufio.Reader, limit int, buf *[]byte, v any) error {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return err
	}
	size := int(binary.BigEndian.Uint32(n[:]))
	if size > limit {
		return fmt.Errorf("scripts: frame of %d bytes exceeds the limit of %d", size, limit)
	}
	if cap(*buf) < size {
		*buf = make([]byte, size)
	}
	b := (*buf)[:size]
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}
