package scripts

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// threadAllowance leaves room for the few threads the Go runtime may still
// start (each a C stack of up to 8 MiB in a cgo build).
const threadAllowance = 64 << 20

// confine applies the runner's OS limits to its own process before it reads
// any job. The data segment, which holds Go's heap and goroutine stacks, may
// grow by l.MemoryBytes beyond what the runner mapped to start, so an
// allocation past that ends this process and nothing else. No core dumps.
func confine(l Limits) error {
	base, err := dataSegment()
	if err != nil {
		return err
	}
	mem := uint64(base + l.MemoryBytes + threadAllowance)
	if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: mem, Max: mem}); err != nil {
		return fmt.Errorf("limit memory: %w", err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{}); err != nil {
		return fmt.Errorf("disable core dumps: %w", err)
	}
	debug.SetMaxStack(int(min(l.MemoryBytes/2, 256<<20)))
	return nil
}

// dataSegment reads the process's data segment size (VmData), in bytes.
func dataSegment() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read data segment size: %w", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmData:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmData %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmData in /proc/self/status")
}

// runnerSysProcAttr kills a runner when the hub dies, however it dies.
func runnerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// ownExecutable is the binary this process runs. /proc/self/exe stays that
// binary after an in-place upgrade replaces or removes the file at its
// path, so a runner is always the hub's own version.
func ownExecutable() (string, error) { return "/proc/self/exe", nil }
