package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/domain"
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
					&cli.StringFlag{Name: "password", Required: true, Usage: "8 to 72 bytes"},
					&cli.StringFlag{Name: "role", Value: domain.RoleOwner, Usage: "owner, admin or agent"}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					email := strings.TrimSpace(cmd.String("email"))
					if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
						return fmt.Errorf("--email %q is not an email address", email)
					}
					role := cmd.String("role")
					if role != domain.RoleOwner && role != domain.RoleAdmin && role != domain.RoleAgent {
						return fmt.Errorf("--role %q: owner, admin or agent", role)
					}
					hash, err := auth.HashPassword(cmd.String("password"))
					if err != nil {
						return fmt.Errorf("--password: %w", err)
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
					_, err = st.CreateUser(ctx, domain.User{WorkspaceID: ws.ID, Email: email, Role: role, PasswordHash: hash})
					if errors.Is(err, store.ErrConflict) {
						return fmt.Errorf("a user with email %s already exists", email)
					} else if err != nil {
						return err
					}
					fmt.Printf("created %s %s in workspace %q\n", role, strings.ToLower(email), ws.Name)
					return nil
				},
			},
			{
				Name:  "list-tokens",
				Usage: "list a workspace's admin tokens (their ids, never the tokens)",
				Flags: append(config.DatabaseFlags(),
					&cli.StringFlag{Name: "workspace", Usage: "workspace name", Required: true}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					st, err := openStore(ctx, cmd)
					if err != nil {
						return err
					}
					defer st.Close()
					return listTokens(ctx, st, cmd.String("workspace"), os.Stdout)
				},
			},
			{
				Name:  "revoke-token",
				Usage: "revoke an admin token by its id (see list-tokens)",
				Flags: append(config.DatabaseFlags(),
					&cli.StringFlag{Name: "id", Usage: "the token's id", Required: true}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					st, err := openStore(ctx, cmd)
					if err != nil {
						return err
					}
					defer st.Close()
					id := strings.TrimSpace(cmd.String("id"))
					if auth.HasPrefix(id, auth.PrefixAdminToken) {
						// Never echo a token back, not even into the terminal.
						return errors.New("--id takes a token's id, as list-tokens prints it, not the token itself")
					}
					tok, err := st.AdminToken(ctx, id)
					if err == nil {
						err = st.RevokeAdminToken(ctx, tok.WorkspaceID, id)
					}
					if errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("no admin token has id %q", id)
					} else if err != nil {
						return err
					}
					fmt.Printf("revoked admin token %s; running hubs refuse it within %s\n", id, auth.AdminTokenCacheTTL)
					return nil
				},
			},
		},
	}
}

// listTokens prints a workspace's admin tokens, newest first, one a line.
func listTokens(ctx context.Context, st *store.Store, name string, out io.Writer) error {
	ws, err := st.WorkspaceByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no workspace is named %q", name)
	} else if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tCREATED\tLAST USED")
	page := domain.Page{Limit: 500}
	for {
		tokens, next, err := st.AdminTokens(ctx, ws.ID, page)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			used := "never"
			if t.LastUsedAt != nil {
				used = t.LastUsedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.Format(time.RFC3339), used)
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	return w.Flush()
}
