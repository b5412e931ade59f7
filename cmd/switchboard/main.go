// Command switchboard runs the Switchboard hub and its admin tasks.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchboardhq/switchboard/scripts"
)

func main() {
	scripts.RunnerMain() // when the hub started this process to run transforms
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().Run(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}
