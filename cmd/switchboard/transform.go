package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/switchboardhq/switchboard/core/delivery"
	"github.com/switchboardhq/switchboard/scripts"
)

func transformCommand() *cli.Command {
	return &cli.Command{
		Name:  "transform",
		Usage: "work with delivery transform scripts",
		Commands: []*cli.Command{{
			Name:  "test",
			Usage: "print the request a transform would send for an event, its console output and any error",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "script", Usage: "the transform script (.js)", Required: true},
				&cli.StringFlag{Name: "event", Usage: "a JSON file with the event, e.g. {\"content\": \"hi\", \"contact\": {\"name\": \"Ana\"}}; variables left out take sample values"},
				&cli.StringFlag{Name: "delivery", Usage: "a JSON delivery target whose templates run first (default: POST https://example.com/webhook)"},
				&cli.DurationFlag{Name: "timeout", Usage: "time limit of the run", Value: scripts.DefaultLimits.Timeout},
			},
			Action: func(ctx context.Context, cmd *cli.Command) error {
				src, err := os.ReadFile(cmd.String("script"))
				if err != nil {
					return err
				}
				target := delivery.SampleTarget
				if path := cmd.String("delivery"); path != "" {
					raw, err := os.ReadFile(path)
					if err != nil {
						return err
					}
					t, err := delivery.ParseTarget(raw, nil, nil)
					if err != nil {
						return err
					}
					target = *t
				}
				vars := delivery.SampleVars()
				if path := cmd.String("event"); path != "" {
					raw, err := os.ReadFile(path)
					if err != nil {
						return err
					}
					var ev map[string]any
					if err := json.Unmarshal(raw, &ev); err != nil {
						return fmt.Errorf("--event: %s is not a JSON object: %w", path, err)
					}
					delivery.FlattenEvent(ev, vars)
				}
				engine := scripts.NewEngine(scripts.Options{Limits: scripts.Limits{Timeout: cmd.Duration("timeout")}, Runners: 1})
				defer engine.Close()
				res := delivery.DryRun(ctx, engine, &target, string(src), vars)
				out := os.Stdout
				if len(res.Logs) > 0 {
					fmt.Fprintln(out, "console:")
					for _, l := range res.Logs {
						fmt.Fprintln(out, "  "+l)
					}
				}
				switch {
				case res.Error != "":
					fmt.Fprintln(out, "error:", res.Error)
					return errors.New("the transform failed")
				case res.Skipped:
					fmt.Fprintln(out, "skipped: the transform returned null; nothing would be sent")
				default:
					fmt.Fprintln(out, "request:")
					b, _ := json.MarshalIndent(res.Request, "  ", "  ")
					fmt.Fprintln(out, "  "+string(b))
					fmt.Fprintln(out, "curl:")
					fmt.Fprintln(out, res.Curl)
				}
				return nil
			},
		}},
	}
}
