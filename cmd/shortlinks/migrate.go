package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/shortlinks/shortlinks/migrations"
)

func migrate(ctx context.Context, cfg *config, args []string) error {
	if len(args) == 0 || len(args) > 2 || (len(args) == 2) != (args[0] == "up-to" || args[0] == "down-to") {
		return errMigrateUsage
	}
	m, done, err := openMigrator(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer done()
	switch args[0] {
	case "up", "up-to":
		res, err := upOrUpTo(ctx, m, args)
		for _, r := range res {
			fmt.Printf("applied %s (%s)\n", r.File, r.Duration.Round(1e6))
		}
		if err == nil && len(res) == 0 {
			fmt.Println("no pending migrations")
		}
		return err
	case "down":
		r, err := m.Down(ctx)
		if err == nil {
			fmt.Printf("rolled back %s\n", r.File)
		}
		return err
	case "down-to":
		v, err := migrationVersion(args[1])
		if err != nil {
			return err
		}
		res, err := m.DownTo(ctx, v)
		for _, r := range res {
			fmt.Printf("rolled back %s\n", r.File)
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
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Version, state, at, s.File)
		}
		return w.Flush()
	}
	return errMigrateUsage
}

var errMigrateUsage = errors.New("usage: shortlinks migrate up|up-to VERSION|down|down-to VERSION|status")

func upOrUpTo(ctx context.Context, m *migrations.Migrator, args []string) ([]migrations.Applied, error) {
	if args[0] == "up" {
		return m.Up(ctx)
	}
	v, err := migrationVersion(args[1])
	if err == nil && v == 0 {
		err = fmt.Errorf("migrate up-to: 0 is not a migration version")
	}
	if err != nil {
		return nil, err
	}
	return m.UpTo(ctx, v)
}

// migrationVersion parses the VERSION of up-to and down-to (0 for down-to
// means every migration rolled back).
func migrationVersion(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("migrate: %q is not a migration version", s)
	}
	return v, nil
}
