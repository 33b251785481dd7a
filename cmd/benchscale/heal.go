package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	"github.com/shortlinks/shortlinks/migrations"
)

// timeHeal times the heal migration (00004) and its rollback on the big
// dataset with 1% duplicates, as an operator who deployed the fix late
// would meet them: roll the fix back, let 1% of active links gain a
// duplicate, apply the fix again. While it runs, a reader and a writer
// probe the table to show what the migration's lock blocks and for how
// long. The duplicates are deleted afterwards, so the dataset is unchanged.
func timeHeal(ctx context.Context, dbURL string, n int64) error {
	conn, err := sql.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer conn.Close()
	p, err := migrations.New(conn, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "heal timing at %d links with 1%% duplicates\n", n)
	start := time.Now()
	if _, err := p.Apply(ctx, migrations.OneActiveLinkVersion, false); err != nil {
		return fmt.Errorf("migrate down the fix: %w", err)
	}
	down := time.Since(start)
	var maxID int64
	if err := conn.QueryRowContext(ctx, `SELECT max(id) FROM short_links`).Scan(&maxID); err != nil {
		return err
	}
	// A newer active twin of one active link in a hundred: new slug (eight
	// characters, so never one of the generator's seven), same destination.
	start = time.Now()
	res, err := conn.ExecContext(ctx, `INSERT INTO short_links (slug, destination_url, link_type, business_id, site_id, created_at)
		SELECT 'd' || slug, destination_url, link_type, business_id, site_id, created_at + interval '1 minute'
		FROM short_links WHERE is_active AND id % 100 = 7`)
	if err != nil {
		return fmt.Errorf("inserting duplicates: %w", err)
	}
	dups, _ := res.RowsAffected()
	fmt.Fprintf(os.Stderr, "  inserted %d duplicates in %s\n", dups, time.Since(start).Round(time.Millisecond))
	if _, err := conn.ExecContext(ctx, `VACUUM ANALYZE short_links`); err != nil {
		return err
	}
	probe := startProbes(ctx, conn, maxID)
	start = time.Now()
	_, err = p.Apply(ctx, migrations.OneActiveLinkVersion, true)
	up := time.Since(start)
	reads, write := probe()
	if err != nil {
		return fmt.Errorf("migrate up the fix: %w", err)
	}
	var left, healed int64
	conn.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM short_links WHERE is_active
		GROUP BY destination_hash, link_type HAVING count(*) > 1) g`).Scan(&left)
	conn.QueryRowContext(ctx, `SELECT count(*) FROM short_links WHERE id > $1 AND NOT is_active`, maxID).Scan(&healed)
	fmt.Printf("\nheal at %s links + %d duplicates (1%%): migrate down (DROP INDEX) %.1f s; migrate up (heal + CREATE UNIQUE INDEX) %.1f s, "+
		"%d duplicates deactivated, %d groups left.\n  During the up: reads by id kept answering (slowest %.0f ms); "+
		"a write to an existing link waited %.1f s (SHARE ROW EXCLUSIVE lock held for the whole migration)\n",
		size(n), dups, down.Seconds(), up.Seconds(), healed, left, ms(reads), write.Seconds())
	start = time.Now()
	if _, err := conn.ExecContext(ctx, `DELETE FROM short_links WHERE id > $1`, maxID); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `VACUUM ANALYZE short_links`); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  removed the duplicates again in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// startProbes reads a link by id every 50 ms and, a second in, updates
// one link; the returned function stops them and reports the slowest read
// and how long the write took.
func startProbes(ctx context.Context, conn *sql.DB, maxID int64) func() (time.Duration, time.Duration) {
	stop := make(chan struct{})
	readDone := make(chan time.Duration, 1)
	writeDone := make(chan time.Duration, 1)
	go func() {
		var slowest time.Duration
		for {
			select {
			case <-stop:
				readDone <- slowest
				return
			case <-time.After(50 * time.Millisecond):
			}
			start := time.Now()
			var id int64
			conn.QueryRowContext(ctx, `SELECT id FROM short_links WHERE id = $1`, maxID/3).Scan(&id)
			slowest = max(slowest, time.Since(start))
		}
	}()
	go func() {
		time.Sleep(time.Second)
		start := time.Now()
		conn.ExecContext(ctx, `UPDATE short_links SET preview_count = preview_count + 0 WHERE id = $1`, maxID/2)
		writeDone <- time.Since(start)
	}()
	return func() (time.Duration, time.Duration) {
		w := <-writeDone
		close(stop)
		return <-readDone, w
	}
}
