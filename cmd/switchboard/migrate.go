package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/store"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply pending database migrations",
		Flags: config.DatabaseFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			st, err := openStore(ctx, cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Println("database is up to date")
			return nil
		},
	}
}

// openStore opens and migrates the database named by --database-url.
func openStore(ctx context.Context, cmd *cli.Command) (*store.Store, error) {
	level, err := config.ParseLogLevel(cmd.String("log-level"))
	if err != nil {
		return nil, err
	}
	log := config.NewLogger(level, cmd.String("log-format"))
	st, err := store.Open(ctx, cmd.String("database-url"), log)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
