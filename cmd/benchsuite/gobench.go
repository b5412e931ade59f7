package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// goBenchLine is one result line of `go test -bench`: the name, -GOMAXPROCS
// suffix, iterations, then value-unit pairs.
var goBenchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.+)$`)

// goBench is one result of a Go benchmark: its metrics by unit
// ("ns/op", "deliveries/s", ...).
type goBench struct {
	Name    string             `json:"name"`
	N       int                `json:"n"`
	Metrics map[string]float64 `json:"metrics"`
}

// parseGoBench reads the result lines of `go test -bench` output, in order
// (with -count, a name repeats).
func parseGoBench(out string) []goBench {
	var res []goBench
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := goBenchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[2])
		if err != nil {
			continue
		}
		b := goBench{Name: m[1], N: n, Metrics: map[string]float64{}}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			b.Metrics[f[i+1]] = v
		}
		res = append(res, b)
	}
	return res
}

// metric collects one metric of every result named name.
func metric(bs []goBench, name, unit string) []float64 {
	var v []float64
	for _, b := range bs {
		if x, ok := b.Metrics[unit]; ok && b.Name == name {
			v = append(v, x)
		}
	}
	return v
}

// runGoBench runs `go test` with args in the repository, PostgreSQL
// benchmarks on pgURL when set, and returns the command as the doc shows it
// with its parsed results.
func (s *suite) runGoBench(ctx context.Context, pgURL string, args ...string) (string, []goBench, error) {
	full := append([]string{"test", "-run", "^$"}, args...)
	cmd := exec.CommandContext(ctx, "go", full...)
	cmd.Dir = s.root
	cmd.Env = os.Environ()
	shown := "go " + shellJoin(full)
	if pgURL != "" {
		cmd.Env = append(cmd.Env, "SWITCHBOARD_TEST_DATABASE_URL="+pgURL)
		shown = `SWITCHBOARD_TEST_DATABASE_URL="$DB" ` + shown
	}
	out, err := cmd.CombinedOutput()
	s.appendLog("go-test.log", "$ "+shown+"\n"+string(out))
	if err != nil {
		return shown, nil, fmt.Errorf("benchsuite: %s: %w (output in %s)", shown, err, s.logPath("go-test.log"))
	}
	res := parseGoBench(string(out))
	if len(res) == 0 {
		return shown, nil, fmt.Errorf("benchsuite: %s: no benchmark results (output in %s)", shown, s.logPath("go-test.log"))
	}
	return shown, res, nil
}

// shellJoin quotes args the way a reader can paste them into sh. An
// argument that names a shell variable ($HUB, "$DB") stays as it is.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		variable := strings.HasPrefix(a, "$") || strings.HasPrefix(a, `"$`)
		if a == "" || !variable && strings.ContainsAny(a, " \t\n'\"$^*?|&;<>()[]{}\\`!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
