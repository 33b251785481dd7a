package migrations_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/migrations"
)

// openTestDB connects to a fresh, empty database of the test cluster.
func openTestDB(t *testing.T) *sqlx.DB {
	t.Helper()
	conn, err := db.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// applied returns the versions the database has.
func applied(t *testing.T, m *migrations.Migrator) map[int64]bool {
	t.Helper()
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]bool{}
	for _, s := range st {
		out[s.Version] = s.Applied
	}
	return out
}

// The fix migration must heal a database that already holds duplicates:
// the oldest link of each group stays active, the rest become history, and
// from then on the database refuses a second active link.
func TestMigrationHealsDuplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := openTestDB(t)
	m, err := migrations.New(conn.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.UpTo(ctx, migrations.OneActiveLinkVersion-1); err != nil {
		t.Fatal(err)
	}
	// Three links to one destination, created 290 ms apart, newest inserted first.
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, link_type, created_at) VALUES
		('new111', 'https://cafe.example.com/', 'site_preview', now()),
		('mid222', 'https://cafe.example.com/', 'site_preview', now() - interval '290 milliseconds'),
		('old333', 'https://cafe.example.com/', 'site_preview', now() - interval '580 milliseconds'),
		('other1', 'https://cafe.example.com/', 'campaign', now()),
		('gone44', 'https://gone.example.com/', 'site_preview', now())`)
	conn.MustExec(`UPDATE short_links SET is_active = false WHERE slug = 'gone44'`)

	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("migrate up over duplicates: %v", err)
	}
	active := map[string]bool{}
	rows, err := conn.Query(`SELECT slug, is_active FROM short_links`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var slug string
		var on bool
		rows.Scan(&slug, &on)
		active[slug] = on
	}
	rows.Close()
	want := map[string]bool{"old333": true, "mid222": false, "new111": false, "other1": true, "gone44": false}
	for slug, on := range want {
		if active[slug] != on {
			t.Errorf("%s active=%t, want %t", slug, active[slug], on)
		}
	}

	_, err = conn.Exec(`INSERT INTO short_links (slug, destination_url, link_type) VALUES ('dup555', 'https://cafe.example.com/', 'site_preview')`)
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "23505" {
		t.Fatalf("manual duplicate insert: %v, want unique violation", err)
	}

	// 00007's backfill records what 00004 healed: each deactivated
	// duplicate is superseded by the link it lost to; a link inactive with
	// no active link for its destination stays retired.
	superseded := map[string]*string{}
	srows, err := conn.Query(`SELECT l.slug, s.slug FROM short_links l LEFT JOIN short_links s ON s.id = l.superseded_by`)
	if err != nil {
		t.Fatal(err)
	}
	for srows.Next() {
		var slug string
		var by *string
		srows.Scan(&slug, &by)
		superseded[slug] = by
	}
	srows.Close()
	for slug, want := range map[string]string{"old333": "", "mid222": "old333", "new111": "old333", "other1": "", "gone44": ""} {
		if got := superseded[slug]; (got == nil) != (want == "") || got != nil && *got != want {
			t.Errorf("%s superseded by %v, want %q", slug, got, want)
		}
	}

	// Down to before the fix removes only the index (the healed links stay
	// inactive); up again recreates it.
	if _, err := m.DownTo(ctx, migrations.OneActiveLinkVersion-1); err != nil {
		t.Fatal(err)
	}
	if v := applied(t, m); v[migrations.OneActiveLinkVersion] || !v[migrations.OneActiveLinkVersion-1] {
		t.Errorf("applied after down to %d: %v", migrations.OneActiveLinkVersion-1, v)
	}
	// One active link per type: old333 (site_preview) and other1 (campaign).
	var n int
	if err := conn.Get(&n, `SELECT COUNT(*) FROM short_links WHERE destination_url = 'https://cafe.example.com/' AND is_active`); err != nil || n != 2 {
		t.Errorf("%d active links after down (%v), want 2 (down must not undo the healing)", n, err)
	}
	s := db.New(conn, db.Options{})
	if st, _ := s.UniqueIndexState(ctx); st.Present {
		t.Error("index still present after down")
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	st, _ := s.UniqueIndexState(ctx)
	if c, err := s.RunDuplicateCheck(ctx, db.CheckOptions{}); err != nil || !st.Present || !st.Valid || c.DuplicateGroups != 0 {
		t.Errorf("after up again: index %+v, check %+v %v", st, c, err)
	}
}

// Several instances starting together migrate once, without errors.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := openTestDB(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			m, err := migrations.New(conn.DB, nil)
			if err == nil {
				_, err = m.Up(ctx)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	m, err := migrations.New(conn.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	for v, ok := range applied(t, m) {
		if !ok {
			t.Errorf("migration %d not applied", v)
		}
	}
}

// Migration 00010 starts the running traffic totals from the counts the
// links already hold, so the Shlink visits overview loses no history.
func TestTrafficTotalsMigrationBackfills(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := openTestDB(t)
	m, err := migrations.New(conn.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	const trafficTotalsVersion = 10
	if _, err := m.UpTo(ctx, trafficTotalsVersion-1); err != nil {
		t.Fatal(err)
	}
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, link_type, is_active, click_count, preview_count) VALUES
		('tot111', 'https://a.example.com/', 'site_preview', true, 12, 3),
		('tot222', 'https://b.example.com/', 'site_preview', false, 30, 0)`)
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	s := db.New(conn, db.Options{})
	got, err := s.TrafficTotals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != (db.TrafficTotals{Clicks: 42, Previews: 3}) {
		t.Errorf("totals after the migration %+v, want 42 clicks and 3 previews", got)
	}
}

// Migrations 00022–00024 make links and businesses written before them
// searchable as people type (backfilled in batches, more than one batch
// here), and the down migrations leave the schema as it was.
func TestSearchMigrationsBackfillAndRollBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := openTestDB(t)
	m, err := migrations.New(conn.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	const searchTextVersion, searchIndexesVersion = 22, 24
	if _, err := m.UpTo(ctx, searchTextVersion-1); err != nil {
		t.Fatal(err)
	}
	conn.MustExec(`INSERT INTO businesses (id, name, city) VALUES
		('00000000-0000-0000-0000-0000000000a1', 'Rosa''s Bakery', 'Austin'),
		('00000000-0000-0000-0000-0000000000a2', 'Café Luna', 'San José')`)
	// 25,000 links (three batches), the last two with businesses.
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, link_type)
		SELECT 'old' || i, 'https://old' || i || '.example.com/', 'campaign' FROM generate_series(1, 24998) i`)
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, link_type, business_id) VALUES
		('rosa1', 'https://www.rosas.com/', 'campaign', '00000000-0000-0000-0000-0000000000a1'),
		('luna1', 'https://luna.example/', 'campaign', '00000000-0000-0000-0000-0000000000a2')`)
	if _, err := m.UpTo(ctx, searchIndexesVersion); err != nil {
		t.Fatal(err)
	}
	var unfilled int
	conn.Get(&unfilled, `SELECT (SELECT count(*) FROM short_links WHERE search_text IS NULL)
		+ (SELECT count(*) FROM businesses WHERE search_text IS NULL)`)
	if unfilled != 0 {
		t.Errorf("%d rows left without search text", unfilled)
	}
	s := db.New(conn, db.Options{})
	for q, want := range map[string]string{"rosas bakery": "rosa1", "san jose": "luna1", "old24998": "old24998"} {
		page, err := s.ListLinks(ctx, db.ListFilter{Query: q})
		if err != nil || len(page.Links) != 1 || page.Links[0].Slug != want {
			t.Errorf("%q after the backfill: %+v %v, want %s", q, page.Links, err, want)
		}
	}
	for range searchIndexesVersion - searchTextVersion + 1 {
		if _, err := m.Down(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var left int
	conn.Get(&left, `SELECT count(*) FROM information_schema.columns WHERE column_name = 'search_text'`)
	var oldIndexes int
	conn.Get(&oldIndexes, `SELECT count(*) FROM pg_indexes WHERE indexname IN ('short_links_search_idx', 'businesses_search_idx')`)
	if left != 0 || oldIndexes != 2 {
		t.Errorf("after rolling back: %d search_text columns, %d of the trigram indexes of 00005", left, oldIndexes)
	}
}
