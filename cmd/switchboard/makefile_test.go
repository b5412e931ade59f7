package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMakeRunKeepsEnvTwins checks the command `make run` would start: a flag
// passed there would override its env twin, so --addr is passed only when
// ADDR is given to make.
func TestMakeRunKeepsEnvTwins(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	for _, tc := range []struct {
		name     string
		args     []string
		env      []string
		wantArgs string
		wantURL  string
	}{
		{name: "env twin", env: []string{"SWITCHBOARD_ADDR=127.0.0.1:9911"}, wantArgs: "", wantURL: "http://127.0.0.1:9911"},
		{name: "default", wantArgs: "", wantURL: "http://127.0.0.1:8080"},
		{name: "ADDR given", args: []string{"ADDR=127.0.0.1:9922"}, env: []string{"SWITCHBOARD_ADDR=127.0.0.1:9911"},
			wantArgs: " --addr 127.0.0.1:9922", wantURL: "http://127.0.0.1:9922"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("make", append([]string{"-n", "-C", "../..", "run"}, tc.args...)...)
			cmd.Env = append(envWithout("ADDR", "SWITCHBOARD_ADDR", "MAKEFLAGS"), tc.env...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("make -n run: %v", err)
			}
			var serve string
			for line := range strings.SplitSeq(string(out), "\n") {
				if rest, ok := strings.CutPrefix(line, "bin/switchboard serve"); ok {
					serve = rest
				}
			}
			if serve != tc.wantArgs {
				t.Errorf("serve arguments = %q, want %q\n%s", serve, tc.wantArgs, out)
			}
			if !strings.Contains(string(out), tc.wantURL) {
				t.Errorf("make run does not announce %s\n%s", tc.wantURL, out)
			}
		})
	}
}

func envWithout(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || name == n
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return env
}
