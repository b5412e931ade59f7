package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/config"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the hub",
		Flags: config.ServeFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			cfg, err := config.Load(cmd)
			if err != nil {
				return err
			}
			log := config.NewLogger(cfg.LogLevel, cfg.LogFormat)
			app, err := core.New(ctx, cfg, log)
			if err != nil {
				return err
			}
			if err := app.Start(); err != nil {
				app.Shutdown(context.Background())
				return err
			}
			base := cfg.PublicURL
			if base == "" {
				base = "http://" + app.Addr()
			}
			// The database URL is only ever shown redacted: it may hold a password.
			dbURL := config.RedactDatabaseURL(cfg.DatabaseURL)
			log.Info("switchboard serving", "addr", app.Addr(), "version", core.Version, "database", app.Store.Dialect(), "database_url", dbURL)
			fmt.Fprintf(os.Stdout, "\nSwitchboard is running at %s\n", base)
			fmt.Fprintf(os.Stdout, "  Admin UI:   %s/  (log in with a user's email and password)\n", base)
			fmt.Fprintf(os.Stdout, "  Make a login: %s admin create-user --workspace default --email you@example.com --password '…' --database-url '%s'\n", os.Args[0], dbURL)
			fmt.Fprintf(os.Stdout, "  Admin API:  %s/api  (Authorization: Bearer sba_…)\n", base)
			fmt.Fprintf(os.Stdout, "  Get a token: %s admin create-token --workspace default --database-url '%s'\n", os.Args[0], dbURL)
			if dbURL != cfg.DatabaseURL {
				fmt.Fprintln(os.Stdout, "               (with the database password in place of xxxxx)")
			}
			fmt.Fprintln(os.Stdout)

			<-ctx.Done()
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			if err := app.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			log.Info("stopped")
			return nil
		},
	}
}
