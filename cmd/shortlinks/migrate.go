package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
)

func migrate(ctx context.Context, cfg *config, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: shortlinks migrate up|down|status")
	}
	m, done, err := openMigrator(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer done()
	switch args[0] {
	case "up":
		res, err := m.Up(ctx)
		for _, r := range res {
			fmt.Printf("applied %s (%s)\n", r.Source.Path, r.Duration.Round(1e6))
		}
		if err == nil && len(res) == 0 {
			fmt.Println("no pending migrations")
		}
		return err
	case "down":
		r, err := m.Down(ctx)
		if err == nil {
			fmt.Printf("rolled back %s\n", r.Source.Path)
		}
		return err
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tSTATE\tAPPLIED AT\tFILE")
		for _, s := range st {
			at := "-"
			if !s.AppliedAt.IsZero() {
				at = s.AppliedAt.Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Source.Version, s.State, at, s.Source.Path)
		}
		return w.Flush()
	}
	return fmt.Errorf("usage: shortlinks migrate up|down|status")
}
