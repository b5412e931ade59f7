package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
)

// children lists the processes whose parent is pid, from /proc.
func children(t *testing.T, pid int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so read after its ')'.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == pid {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			out = append(out, child)
		}
	}
	return out
}

// running reports whether a process exists and is not a zombie waiting to
// be reaped (reaping orphans is init's job, not the plugin's).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

// TestKilledHubLeavesNoPlugins: a hub killed with SIGKILL cannot stop its
// plugins; each plugin notices its parent is gone and exits by itself.
func TestKilledHubLeavesNoPlugins(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	// The hub's own environment holds secrets; its plugins must not see them.
	t.Setenv("SWITCHBOARD_DATABASE_URL", "postgres://hub:s3cret@db.internal/switchboard")
	t.Setenv("SWITCHBOARD_TOKEN", "sba_not-for-plugins")
	pluginDir := t.TempDir()
	if err := apptest.BuildPlugins(pluginDir); err != nil {
		t.Fatal(err)
	}
	hub := startServe(t, "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), pluginDir)
	plugins := children(t, hub.cmd.Process.Pid)
	if len(plugins) < 3 {
		t.Fatalf("the hub runs %d child processes, want one per plugin (at least custom, sms and whatsapp)", len(plugins))
	}
	for _, pid := range plugins {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			continue
		}
		for _, v := range strings.Split(string(env), "\x00") {
			if strings.HasPrefix(v, "SWITCHBOARD_") && !strings.HasPrefix(v, "SWITCHBOARD_PLUGIN=") {
				t.Errorf("plugin %d inherited %s from the hub", pid, strings.SplitN(v, "=", 2)[0])
			}
		}
	}
	if err := hub.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	hub.cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var alive []int
		for _, pid := range plugins {
			if running(pid) {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range alive {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Fatalf("plugins %v outlived the killed hub by 5 s", alive)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
