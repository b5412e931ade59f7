package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const page = `# Benchmarks

A first paragraph, by hand.

<!-- bench:begin -->
old figures
<!-- bench:end -->

| a hand-written table |
<!-- soak:begin -->
<!-- soak:end -->
the end, by hand
`

func TestMarkersReplaceKeepsTheRest(t *testing.T) {
	out, err := benchMarkers.replace(page, "new figures\n\nand more\n")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(page, "old figures\n", "new figures\n\nand more\n", 1)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	// Again on its own output: the same page, no block growing.
	again, err := benchMarkers.replace(out, "new figures\n\nand more")
	if err != nil || again != out {
		t.Errorf("second replace changed the page (%v):\n%s", err, again)
	}
	// The other markers' block is its own.
	soak, err := soakMarkers.replace(out, "soak figures")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(out, "<!-- soak:begin -->\n", "<!-- soak:begin -->\nsoak figures\n", 1); soak != want {
		t.Errorf("soak block:\n%s", soak)
	}
	empty, err := benchMarkers.replace(page, "")
	if err != nil || !strings.Contains(empty, "<!-- bench:begin -->\n<!-- bench:end -->") {
		t.Errorf("empty block: %v\n%s", err, empty)
	}
}

func TestMarkersBroken(t *testing.T) {
	for _, tc := range []struct {
		name, page, want string
	}{
		{name: "no markers", page: "# Benchmarks\n\nby hand\n", want: "bench:begin --> is missing"},
		{name: "no end", page: "<!-- bench:begin -->\nx\n", want: "bench:end --> is missing"},
		{name: "no begin", page: "x\n<!-- bench:end -->\n", want: "bench:begin --> is missing"},
		{name: "end first", page: "<!-- bench:end -->\nx\n<!-- bench:begin -->\n", want: "comes before"},
		{name: "two begins", page: "<!-- bench:begin -->\n<!-- bench:begin -->\n<!-- bench:end -->\n", want: "appears 2 times"},
		{name: "inside a line", page: "see <!-- bench:begin --> here\n<!-- bench:end -->\n", want: "line of their own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := benchMarkers.replace(tc.page, "figures")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q (page out: %q)", err, tc.want, out)
			}
		})
	}
}

func TestMarkersReplaceInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	if err := os.WriteFile(path, []byte(page), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := benchMarkers.replaceInFile(path, "written"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if !strings.Contains(string(b), "<!-- bench:begin -->\nwritten\n<!-- bench:end -->") || fi.Mode().Perm() != 0o640 {
		t.Errorf("file now %v:\n%s", fi.Mode(), b)
	}
	// A broken page is left as it was.
	broken := "no markers here\n"
	os.WriteFile(path, []byte(broken), 0o640)
	if err := benchMarkers.replaceInFile(path, "written"); err == nil {
		t.Error("a page without markers was accepted")
	}
	if b, _ := os.ReadFile(path); string(b) != broken {
		t.Errorf("a broken page was changed: %q", b)
	}
}
