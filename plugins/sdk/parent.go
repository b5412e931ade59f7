package sdk

import (
	"os"
	"time"
)

// parentPoll is how often a plugin checks that the hub that started it is
// still its parent.
const parentPoll = 250 * time.Millisecond

// exitWithParent ends the plugin process once the hub that started it is
// gone, however it went: a hub killed with SIGKILL cannot stop its plugins,
// and an orphan would keep its socket and its provider sessions open. A
// process whose parent dies is given a new parent (init, or a subreaper),
// so a changed parent id means the hub is gone.
func exitWithParent() {
	parent := os.Getppid()
	if parent <= 1 {
		// Started by init or detached: there is no hub to outlive.
		return
	}
	go func() {
		t := time.NewTicker(parentPoll)
		defer t.Stop()
		for range t.C {
			if os.Getppid() != parent {
				os.Exit(0)
			}
		}
	}()
}
