package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/shortlinks/shortlinks/migrations"
)

// buildVersion3 migrates to version 3 and inserts n links: link i has slug
// "u<i in hex>" and its own destination, except every 100th, which repeats
// the destination of the link before it (created a second later): n/100
// duplicate groups of two active links, as a database from before the
// unique index held them.
func buildVersion3(ctx context.Context, conn *sql.DB, n int64) error {
	m, err := migrations.New(conn, nil)
	if err != nil {
		return err
	}
	if _, err := m.UpTo(ctx, 3); err != nil {
		return err
	}
	const chunk = 500_000
	for lo := int64(1); lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		// Triggers off for the load (no change notification per row).
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			tx.Rollback()
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO short_links (slug, destination_url, link_type, created_at)
			SELECT 'u' || to_hex(i),
			       'https://site' || CASE WHEN i % 100 = 0 THEN i - 1 ELSE i END || '.example.com/',
			       'site_preview', now() - ($3 - i) * interval '1 second'
			FROM generate_series($1::bigint, $2::bigint) i`, lo, hi, n)
		if err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err = conn.ExecContext(ctx, `VACUUM ANALYZE short_links`)
	return err
}

// migrateStep runs `migrate up` or `migrate down-to v` and prints what it
// applied and the total time.
func migrateStep(ctx context.Context, conn *sql.DB, step string, v int64) error {
	start := time.Now()
	// Retries after a lock timeout are printed, with their time.
	m, err := migrations.New(conn, slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelWarn,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.String("at", fmt.Sprintf("%+.1fs", time.Since(start).Seconds()))
			}
			return a
		},
	})))
	if err != nil {
		return err
	}
	var res []migrations.Applied
	if step == "up" {
		res, err = m.Up(ctx)
	} else {
		res, err = m.DownTo(ctx, v)
	}
	// Each file with the second (from the step's start) it ended at, to
	// match the longest waits' "at".
	var at time.Duration
	for _, r := range res {
		at += r.Duration
		fmt.Printf("    %-44s %7.1f s  ends at %+7.1f s\n", r.File, r.Duration.Seconds(), at.Seconds())
	}
	fmt.Printf("    migrate %s total: %.1f s\n", step, time.Since(start).Seconds())
	return err
}

func withDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("database url: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}
