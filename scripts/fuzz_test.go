package scripts

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// The fuzz targets of this file keep their seeds in testdata/fuzz/FuzzXxx;
// plain `go test` runs them as ordinary tests, `make fuzz` explores.

// fuzzFrameLimit stands for the real frame limits, small enough that a
// fuzzed length prefix cannot make a run slow.
const fuzzFrameLimit = 64 << 10

// FuzzWireFrame reads arbitrary bytes as runner frames, both ways. Garbage,
// truncated and oversize frames are errors, never panics, and never
// allocate past the limit; a frame that decodes re-encodes to the same
// frame.
func FuzzWireFrame(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x02{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []func() any{func() any { return new(wireJob) }, func() any { return new(wireResult) }} {
			r := bufio.NewReader(bytes.NewReader(data))
			var buf []byte
			for i := 0; i < 4; i++ { // a few frames in a row, as a runner reads them
				x := v()
				if err := readFrame(r, fuzzFrameLimit, &buf, x); err != nil {
					break
				}
				if cap(buf) > fuzzFrameLimit {
					t.Fatalf("buffer of %d bytes past the limit of %d", cap(buf), fuzzFrameLimit)
				}
				frame := encodeFrame(t, x)
				y := v()
				var buf2 []byte
				if err := readFrame(bufio.NewReader(bytes.NewReader(frame)), math.MaxInt32, &buf2, y); err != nil {
					t.Fatalf("re-encoded frame does not decode: %v\n%q", err, frame)
				}
				if again := encodeFrame(t, y); !bytes.Equal(frame, again) {
					t.Fatalf("decode(encode(x)) != x:\n%q\n%q", frame, again)
				}
			}
		}
	})
}

// FuzzWireRoundTrip sends jobs and results built from arbitrary values over
// the wire: what arrives is what was sent (strings with invalid UTF-8
// arrive with U+FFFD, as JSON carries them); every cut of the frame and a
// frame over the limit are errors.
func FuzzWireRoundTrip(f *testing.F) {
	f.Add(uint64(1), "POST", "https://example.com/h", "X-Key", "v", "function transform(r) { return r }", []byte(`{"a":[1,"b",null]}`))
	f.Fuzz(func(t *testing.T, id uint64, method, url, key, value, script string, body []byte) {
		req := &wireRequest{Method: method, URL: url, Params: map[string]string{key: value}, Headers: map[string]string{key: value, "X-Other": value}}
		if json.Valid(body) {
			req.Body = body
		}
		job := wireJob{ID: id, Script: script, Request: req, Event: map[string]any{key: value, "n": json.Number("12"), "list": []any{value, true, nil}}}
		frame := encodeFrame(t, job)
		var got wireJob
		var buf []byte
		if err := readFrame(bufio.NewReader(bytes.NewReader(frame)), len(frame), &buf, &got); err != nil {
			t.Fatalf("decode: %v", err)
		}
		u := func(s string) string { return string([]rune(s)) }
		want := wireJob{ID: id, Script: u(script), Request: &wireRequest{Method: u(method), URL: u(url),
			Params: map[string]string{u(key): u(value)}, Headers: map[string]string{u(key): u(value), "X-Other": u(value)}},
			Event: map[string]any{u(key): u(value), "n": json.Number("12"), "list": []any{u(value), true, nil}}}
		if u(key) == "X-Other" {
			want.Request.Headers = map[string]string{"X-Other": u(value)}
		}
		if u(key) == "n" || u(key) == "list" {
			want.Event = got.Event // the fixed entries win; what matters is no panic
		}
		if req.Body != nil {
			if !jsonEqual(got.Request.Body, req.Body) {
				t.Fatalf("body %s arrived as %s", req.Body, got.Request.Body)
			}
		}
		got.Request.Body = nil
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("sent %+v\narrived %+v", want, got)
		}

		// Every cut short of the whole frame is an error, as is the whole
		// frame under a limit one byte too small.
		for _, n := range []int{0, 1, 3, 4, 5, len(frame) / 2, len(frame) - 1} {
			if n < 0 || n >= len(frame) {
				continue
			}
			var x wireJob
			if err := readFrame(bufio.NewReader(bytes.NewReader(frame[:n])), len(frame), &buf, &x); err == nil {
				t.Fatalf("a frame cut at %d of %d bytes decoded", n, len(frame))
			}
		}
		var x wireJob
		if err := readFrame(bufio.NewReader(bytes.NewReader(frame)), len(frame)-5, &buf, &x); err == nil {
			t.Fatal("a frame over the limit decoded")
		}

		res := wireResult{ID: id, Request: req, Logs: []string{value, script}, Err: &Error{Kind: KindException, Message: value, Line: 3}}
		frame = encodeFrame(t, res)
		var back wireResult
		if err := readFrame(bufio.NewReader(bytes.NewReader(frame)), len(frame), &buf, &back); err != nil {
			t.Fatalf("decode result: %v", err)
		}
		if back.ID != id || !reflect.DeepEqual(back.Logs, []string{u(value), u(script)}) || back.Err == nil || back.Err.Message != u(value) || back.Err.Line != 3 {
			t.Fatalf("result %+v arrived as %+v", res, back)
		}
	})
}

// FuzzTransformInput runs a request and event built from arbitrary JSON
// through the whole transform path, in process: job frame, conversion to
// JavaScript values, a transform that hands them back, conversion from
// JavaScript, result frame. What comes back equals what went in (numbers as
// float64), or, when the input holds a number JavaScript cannot carry, the
// run fails with an error; nothing panics.
func FuzzTransformInput(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,2.5,"x",null,true]}}`), []byte(`{"event":"MESSAGE","text":"hi"}`))
	ev := newEvaluator(Limits{Timeout: 2 * time.Second}.withDefaults())
	const echo = `function transform(request, event) {
		return {method: request.method, url: request.url, params: request.params, headers: request.headers,
			body: {body: request.body, event: event, keys: Object.keys(event)}};
	}`
	f.Fuzz(func(t *testing.T, body, event []byte) {
		if !json.Valid(body) || !json.Valid(event) {
			return
		}
		var evt map[string]any
		d := json.NewDecoder(bytes.NewReader(event))
		d.UseNumber()
		if d.Decode(&evt) != nil || evt == nil {
			return
		}
		req := &Request{Method: "POST", URL: "https://example.com/x", Params: map[string]string{"p": "1"}, Headers: map[string]string{"X-H": "v"}, Body: json.RawMessage(body)}
		w, err := toWire(req)
		if err != nil {
			t.Fatalf("toWire: %v", err)
		}
		frame := encodeFrame(t, wireJob{ID: 7, Script: echo, Request: w, Event: evt})
		var job wireJob
		var buf []byte
		if err := readFrame(bufio.NewReader(bytes.NewReader(frame)), maxJobFrame, &buf, &job); err != nil {
			t.Fatalf("job frame: %v", err)
		}
		res := runJob(ev, &job)
		frame = encodeFrame(t, res)
		var back wireResult
		if err := readFrame(bufio.NewReader(bytes.NewReader(frame)), maxResultFrame, &buf, &back); err != nil {
			t.Fatalf("result frame: %v", err)
		}
		finite := allFinite(normalise(t, body)) && allFinite(normalise(t, event))
		if back.Err != nil {
			if finite {
				t.Fatalf("run failed on representable input: %v\nbody %s\nevent %s", back.Err, body, event)
			}
			return
		}
		out, err := fromWire(back.Request, false)
		if err != nil || out == nil {
			t.Fatalf("no request back: %v", err)
		}
		if out.Method != "POST" || out.URL != req.URL || !reflect.DeepEqual(out.Params, req.Params) || !reflect.DeepEqual(out.Headers, req.Headers) {
			t.Fatalf("request came back as %+v", out)
		}
		got, ok := normalise(t, out.Body.(json.RawMessage)).(map[string]any)
		if !ok {
			t.Fatalf("body came back as %s", out.Body)
		}
		if wantBody := normalise(t, body); !reflect.DeepEqual(got["body"], wantBody) {
			t.Fatalf("body %s came back as %v", body, got["body"])
		}
		if wantEvent := normalise(t, event); !reflect.DeepEqual(got["event"], wantEvent) {
			t.Fatalf("event %s came back as %v", event, got["event"])
		}
		if keys, _ := got["keys"].([]any); len(keys) != len(evt) {
			t.Fatalf("the script saw %d keys of the event's %d: %v", len(keys), len(evt), keys)
		}
	})
}

func encodeFrame(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := writeFrame(w, v); err != nil {
		t.Fatalf("encode frame: %v", err)
	}
	w.Flush()
	if n := binary.BigEndian.Uint32(b.Bytes()[:4]); int(n) != b.Len()-4 {
		t.Fatalf("length prefix %d for %d bytes", n, b.Len()-4)
	}
	return b.Bytes()
}

// normalise decodes JSON with every number as a float64 (±Inf when out of
// range), the one number type JavaScript has.
func normalise(t *testing.T, raw []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("normalise %s: %v", raw, err)
	}
	return floats(v)
}

func floats(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = floats(e)
		}
	case []any:
		for i, e := range x {
			x[i] = floats(e)
		}
	}
	return v
}

func allFinite(v any) bool {
	switch x := v.(type) {
	case float64:
		return !math.IsInf(x, 0) && !math.IsNaN(x)
	case map[string]any:
		for _, e := range x {
			if !allFinite(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !allFinite(e) {
				return false
			}
		}
	}
	return true
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
