package main

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/urfave/cli/v3"
	"golang.org/x/crypto/bcrypt"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/store"
)

func adminCommand() *cli.Command {
	workspace := &cli.StringFlag{Name: "workspace", Usage: "workspace name (created if missing)", Required: true}
	return &cli.Command{
		Name:  "admin",
		Usage: "administrative tasks",
		Commands: []*cli.Command{
			{
				Name:  "create-token",
				Usage: "create an admin API token; prints it alone on the last line",
				Flags: append(config.DatabaseFlags(), workspace,
					&cli.StringFlag{Name: "name", Usage: "a label for the token", Value: "cli"}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					st, err := openStore(ctx, cmd)
					if err != nil {
						return err
					}
					defer st.Close()
					ws, err := st.EnsureWorkspace(ctx, cmd.String("workspace"))
					if err != nil {
						return err
					}
					token, hash := auth.NewSecret(auth.PrefixAdminToken)
					if err := st.CreateAdminToken(ctx, ws.ID, cmd.String("name"), hash); err != nil {
						return err
					}
					fmt.Printf("Admin token for workspace %q (shown once; store it now):\n", ws.Name)
					fmt.Println(token)
					return nil
				},
			},
			{
				Name:  "create-user",
				Usage: "create a login for the admin UI",
				Flags: append(config.DatabaseFlags(), workspace,
					&cli.StringFlag{Name: "email", Required: true},
					&cli.StringFlag{Name: "password", Required: true}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					email := strings.TrimSpace(cmd.String("email"))
					if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
						return fmt.Errorf("--email %q is not an email address", email)
					}
					password := cmd.String("password")
					if len(password) < 8 {
						return errors.New("--password must be at least 8 characters")
					}
					hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
					if err != nil {
						return err
					}
					st, err := openStore(ctx, cmd)
					if err != nil {
						return err
					}
					defer st.Close()
					ws, err := st.EnsureWorkspace(ctx, cmd.String("workspace"))
					if err != nil {
						return err
					}
					if err := st.CreateUser(ctx, ws.ID, email, string(hash)); errors.Is(err, store.ErrConflict) {
						return fmt.Errorf("a user with email %s already exists", email)
					} else if err != nil {
						return err
					}
					fmt.Printf("created user %s in workspace %q\n", strings.ToLower(email), ws.Name)
					return nil
				},
			},
		},
	}
}
