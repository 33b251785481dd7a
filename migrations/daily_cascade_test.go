package migrations_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"
)

// Migration 00045 replaces link_clicks_daily's foreign key with triggers on
// link_counters: a deleted link's days still go with it, a TRUNCATE of the
// links (CASCADE, which follows keys only) still empties the days, and
// the down migration gives back the schema as it was.
func TestDailyRowsMigrationKeepsDaysWithTheirLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const version = 45
	conn, m := migratedBefore(t, version)
	before := catalog(t, conn)
	conn.MustExec(`INSERT INTO short_links (slug, destination_url) VALUES
		('day111', 'https://a.example.com/'), ('day222', 'https://b.example.com/')`)
	conn.MustExec(`INSERT INTO link_clicks_daily (link_id, day, clicks)
		SELECT id, d, 1 FROM short_links, generate_series(date '2026-01-01', date '2026-01-03', interval '1 day') d`)
	if _, err := m.UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	if keys := dailyKeys(t, conn); keys != 0 {
		t.Errorf("%d foreign keys on link_clicks_daily after the migration, want 0", keys)
	}

	conn.MustExec(`DELETE FROM short_links WHERE slug = 'day111'`)
	if got := dailyRows(t, conn); got != 3 {
		t.Errorf("%d daily rows after one of two links was deleted, want the other's 3", got)
	}
	conn.MustExec(`TRUNCATE short_links CASCADE`)
	if got := dailyRows(t, conn); got != 0 {
		t.Errorf("%d daily rows after the links were truncated, want 0", got)
	}

	if _, err := m.DownTo(ctx, version-1); err != nil {
		t.Fatal(err)
	}
	if after := catalog(t, conn); after != before {
		t.Errorf("the schema after the down migration differs from before it:\n%s", lineDiff(before, after))
	}
	if keys := dailyKeys(t, conn); keys != 1 {
		t.Errorf("%d foreign keys on link_clicks_daily after the down migration, want 1", keys)
	}
	if _, err := m.UpTo(ctx, version); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

func dailyRows(t *testing.T, conn *sqlx.DB) int {
	t.Helper()
	var n int
	if err := conn.Get(&n, `SELECT count(*) FROM link_clicks_daily`); err != nil {
		t.Fatal(err)
	}
	return n
}

// dailyKeys counts the validated foreign keys of link_clicks_daily.
func dailyKeys(t *testing.T, conn *sqlx.DB) int {
	t.Helper()
	var n int
	err := conn.Get(&n, `SELECT count(*) FROM pg_constraint
		WHERE conrelid = 'link_clicks_daily'::regclass AND contype = 'f' AND convalidated`)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lineDiff lists the catalog lines only one side has.
func lineDiff(before, after string) string {
	var out string
	b, a := lineSet(before), lineSet(after)
	for l := range b {
		if !a[l] {
			out += "- " + l + "\n"
		}
	}
	for l := range a {
		if !b[l] {
			out += "+ " + l + "\n"
		}
	}
	return out
}
