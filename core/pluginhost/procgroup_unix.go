//go:build unix

package pluginhost

import (
	"os/exec"
	"syscall"
)

// ownGroup starts the plugin in a process group of its own, so that what
// it starts can be stopped with it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the plugin and everything it started: a plugin that
// failed its start may have left children holding its output open.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
