package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/urfave/cli/v3"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(context.Context, *cli.Command) error {
			fmt.Printf("switchboard %s (plugin protocol %d, %s)\n", core.Version, sdk.ProtocolVersion, runtime.Version())
			return nil
		},
	}
}
