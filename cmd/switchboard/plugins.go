package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/pluginhost"
)

func pluginsCommand() *cli.Command {
	dirFlag := &cli.StringFlag{
		Name:    "plugin-dir",
		Usage:   "directory of channel plugin executables (default: plugins/ next to the binary)",
		Sources: cli.EnvVars("SWITCHBOARD_PLUGIN_DIR"),
	}
	dir := func(cmd *cli.Command) string {
		if d := cmd.String("plugin-dir"); d != "" {
			return d
		}
		return config.DefaultPluginDir()
	}
	return &cli.Command{
		Name:  "plugins",
		Usage: "the channel plugins in the plugin directory and their manifests",
		Commands: []*cli.Command{
			{
				Name:  "list",
				Usage: "print each plugin's kind, version, protocol, checksum and state",
				Flags: []cli.Flag{dirFlag},
				Action: func(_ context.Context, cmd *cli.Command) error {
					rows, err := pluginRows(dir(cmd))
					if err != nil {
						return err
					}
					printPluginRows(os.Stdout, rows)
					return nil
				},
			},
			{
				Name:  "verify",
				Usage: "check every plugin against its manifest; exit 1 on any mismatch",
				Flags: []cli.Flag{dirFlag},
				Action: func(_ context.Context, cmd *cli.Command) error {
					rows, err := pluginRows(dir(cmd))
					if err != nil {
						return err
					}
					printPluginRows(os.Stdout, rows)
					bad := 0
					for _, r := range rows {
						if r.state != "ok" {
							bad++
						}
					}
					if bad > 0 {
						return cli.Exit(fmt.Sprintf("plugins verify: %d of %d plugins do not match their manifests", bad, len(rows)), 1)
					}
					return nil
				},
			},
			{
				Name:      "manifest",
				Usage:     "write the manifest of each plugin (or of those named), vouching for the executable as it is now",
				ArgsUsage: "[name …]",
				Flags:     []cli.Flag{dirFlag},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					names := cmd.Args().Slice()
					if len(names) == 0 {
						execs, err := pluginExecutables(dir(cmd))
						if err != nil {
							return err
						}
						names = execs
					}
					for _, name := range names {
						m, err := pluginhost.WriteManifest(ctx, filepath.Join(dir(cmd), filepath.Base(name)), slog.New(slog.DiscardHandler))
						if err != nil {
							return fmt.Errorf("plugins manifest %s: %w", name, err)
						}
						fmt.Printf("%s: kind %s, version %s, protocol %d, sha256 %s\n", filepath.Base(name), m.Kind, m.Version, m.Protocol, m.SHA256)
					}
					return nil
				},
			},
		},
	}
}

type pluginRow struct {
	name     string
	manifest pluginhost.Manifest
	state    string
}

// pluginExecutables lists the executables of a plugin directory.
func pluginExecutables(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plugins: read %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() || info.Mode()&0o111 == 0 || strings.HasSuffix(e.Name(), pluginhost.ManifestSuffix) {
			continue
		}
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out, nil
}

// pluginRows checks each executable against its manifest, without
// running anything.
func pluginRows(dir string) ([]pluginRow, error) {
	names, err := pluginExecutables(dir)
	if err != nil {
		return nil, err
	}
	rows := make([]pluginRow, 0, len(names))
	for _, name := range names {
		m, err := pluginhost.Verify(filepath.Join(dir, name))
		r := pluginRow{name: name, manifest: m, state: "ok"}
		switch {
		case errors.Is(err, pluginhost.ErrNoManifest):
			r.state = "no manifest"
		case errors.Is(err, pluginhost.ErrChecksumMismatch):
			r.state = "checksum mismatch"
		case err != nil:
			r.state = "bad manifest"
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func printPluginRows(w io.Writer, rows []pluginRow) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tPROTOCOL\tSHA256\tSTATE")
	for _, r := range rows {
		sum := r.manifest.SHA256
		if len(sum) > 16 {
			sum = sum[:16] + "…"
		}
		proto := ""
		if r.manifest.Protocol != 0 {
			proto = fmt.Sprint(r.manifest.Protocol)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.name, dash(r.manifest.Kind), dash(r.manifest.Version), dash(proto), dash(sum), r.state)
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
