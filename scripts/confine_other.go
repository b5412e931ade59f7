//go:build !linux

package scripts

import (
	"os"
	"runtime/debug"
	"syscall"
)

// confine bounds what it can portably: goroutine stacks. Memory is capped by
// the OS only on Linux; elsewhere the time limit still holds.
func confine(l Limits) error {
	debug.SetMaxStack(int(min(l.MemoryBytes/2, 256<<20)))
	return nil
}

// runnerSysProcAttr: a runner also exits when its input closes, which
// happens when the hub exits.
func runnerSysProcAttr() *syscall.SysProcAttr { return nil }

// ownExecutable is the binary this process runs, by its path.
func ownExecutable() (string, error) { return os.Executable() }
