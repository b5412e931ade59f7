package main

import (
	"github.com/urfave/cli/v3"
)

func newRootCommand() *cli.Command {
	return &cli.Command{
		Name:  "switchboard",
		Usage: "a self-hosted integration hub for conversations",
		Commands: []*cli.Command{
			serveCommand(),
			migrateCommand(),
			adminCommand(),
			benchCommand(),
			benchBareServerCommand(),
			transformCommand(),
			pluginsCommand(),
			devCommand(),
			versionCommand(),
		},
	}
}
