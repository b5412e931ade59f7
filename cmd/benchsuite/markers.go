package main

import (
	"fmt"
	"os"
	"strings"
)

// markers name a generated block of a hand-written page: the suite owns
// what lies between them and nothing else.
type markers struct{ begin, end string }

var (
	benchMarkers = markers{"<!-- bench:begin -->", "<!-- bench:end -->"}
	soakMarkers  = markers{"<!-- soak:begin -->", "<!-- soak:end -->"}
)

// replace returns page with the text between m's markers replaced by
// block, every byte outside them unchanged. The markers must each appear
// exactly once, begin before end, each on a line of its own.
func (m markers) replace(page, block string) (string, error) {
	for _, mk := range []string{m.begin, m.end} {
		switch n := strings.Count(page, mk); {
		case n == 0:
			return "", fmt.Errorf("benchsuite: marker %s is missing", mk)
		case n > 1:
			return "", fmt.Errorf("benchsuite: marker %s appears %d times", mk, n)
		}
	}
	b, e := strings.Index(page, m.begin), strings.Index(page, m.end)
	if e < b {
		return "", fmt.Errorf("benchsuite: marker %s comes before %s", m.end, m.begin)
	}
	if !onOwnLine(page, b, len(m.begin)) || !onOwnLine(page, e, len(m.end)) {
		return "", fmt.Errorf("benchsuite: markers %s and %s must each stand on a line of their own", m.begin, m.end)
	}
	block = strings.Trim(block, "\n")
	inner := "\n"
	if block != "" {
		inner = "\n" + block + "\n"
	}
	return page[:b+len(m.begin)] + inner + page[e:], nil
}

func onOwnLine(s string, at, n int) bool {
	before := at == 0 || s[at-1] == '\n'
	after := at+n == len(s) || s[at+n] == '\n'
	return before && after
}

// replaceInFile rewrites path with m's block replaced, keeping its mode.
func (m markers) replaceInFile(path, block string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("benchsuite: %w", err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("benchsuite: %w", err)
	}
	out, err := m.replace(string(page), block)
	if err != nil {
		return fmt.Errorf("%w (in %s)", err, path)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(out), fi.Mode().Perm()); err != nil {
		return fmt.Errorf("benchsuite: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("benchsuite: %w", err)
	}
	return nil
}
