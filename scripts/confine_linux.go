package scripts

import (
	"fmt"
	"runtime/debug"
	"syscall"
)

// confine applies the runner's OS limits to its own process before it reads
// any job: the data segment (which holds Go's heap and goroutine stacks) is
// capped, so an allocation past the limit ends this process and nothing
// else; a lower CPU priority keeps a busy runner from starving the hub; no
// core dumps.
func confine(l Limits) error {
	mem := uint64(l.MemoryBytes)
	if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: mem, Max: mem}); err != nil {
		return fmt.Errorf("limit memory: %w", err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{}); err != nil {
		return fmt.Errorf("disable core dumps: %w", err)
	}
	debug.SetMaxStack(int(min(l.MemoryBytes/2, 256<<20)))
	// Best effort: an unprivileged process may always lower its priority.
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, 0, 10)
	return nil
}

// runnerSysProcAttr kills a runner when the hub dies, however it dies.
func runnerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
