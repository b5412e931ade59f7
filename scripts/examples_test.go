package scripts

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected half of the examples' golden files")

// goldenSeparator divides a golden file's input from its expected output.
const goldenSeparator = "\n----\n"

type goldenInput struct {
	Request struct {
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Params  map[string]string `json:"params"`
		Headers map[string]string `json:"headers"`
		Body    any               `json:"body"`
	} `json:"request"`
	Event map[string]any `json:"event"`
}

type goldenOutput struct {
	Request *goldenRequest `json:"request"`
	Skipped bool           `json:"skipped"`
	Logs    []string       `json:"logs"`
	Error   string         `json:"error,omitempty"`
}

type goldenRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Params  map[string]string `json:"params"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body"`
}

// TestExamples runs every examples/*.js against the input in its .golden
// file and compares the outcome with the expected half.
func TestExamples(t *testing.T) {
	scripts, err := filepath.Glob("examples/*.js")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	e := newTestEngine(t, Limits{})
	for _, path := range scripts {
		name := strings.TrimSuffix(filepath.Base(path), ".js")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			goldenPath := strings.TrimSuffix(path, ".js") + ".golden"
			golden, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("every example needs a golden file: %v", err)
			}
			in, want, ok := strings.Cut(string(golden), goldenSeparator)
			if !ok {
				t.Fatalf("%s has no %q separator", goldenPath, strings.TrimSpace(goldenSeparator))
			}
			var input goldenInput
			dec := json.NewDecoder(strings.NewReader(in))
			dec.UseNumber()
			if err := dec.Decode(&input); err != nil {
				t.Fatalf("input: %v", err)
			}
			req := &Request{Method: input.Request.Method, URL: input.Request.URL, Params: input.Request.Params,
				Headers: input.Request.Headers, Body: input.Request.Body}
			res := e.Run(context.Background(), string(src), req, input.Event)
			got := goldenOutput{Skipped: res.Skipped, Logs: res.Logs}
			if res.Err != nil {
				got.Error = res.Err.Error()
			}
			if r := res.Request; r != nil {
				got.Request = &goldenRequest{Method: r.Method, URL: r.URL, Params: r.Params, Headers: r.Headers, Body: r.Body}
			}
			gotJSON, _ := json.MarshalIndent(got, "", "  ")
			if *update {
				os.WriteFile(goldenPath, []byte(in+goldenSeparator+string(gotJSON)+"\n"), 0o644)
				return
			}
			if !sameJSON(t, gotJSON, []byte(want)) {
				t.Errorf("%s: got\n%s\nwant\n%s", name, gotJSON, want)
			}
		})
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &y); err != nil {
		t.Fatalf("expected half is not JSON: %v", err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
