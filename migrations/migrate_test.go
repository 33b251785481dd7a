package migrations_test

import (
	"context"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

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

// migratedBefore returns a new database migrated up to the migration
// before version, and its migrator: where a test of that migration's
// backfill starts.
func migratedBefore(t *testing.T, version int64) (*sqlx.DB, *migrations.Migrator) {
	t.Helper()
	conn := openTestDB(t)
	m, err := migrations.New(conn.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.UpTo(context.Background(), version-1); err != nil {
		t.Fatal(err)
	}
	return conn, m
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
	conn, m := migratedBefore(t, migrations.OneActiveLinkVersion)
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
	const trafficTotalsVersion = 10
	conn, m := migratedBefore(t, trafficTotalsVersion)
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
	const searchTextVersion, searchIndexesVersion = 22, 24
	conn, m := migratedBefore(t, searchTextVersion)
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
	// The store reads the latest schema (later migrations add columns
	// its listing selects, created_by of 00025 among them).
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	s := db.New(conn, db.Options{})
	for q, want := range map[string]string{"rosas bakery": "rosa1", "san jose": "luna1", "old24998": "old24998"} {
		page, err := s.ListLinks(ctx, db.ListFilter{Query: q})
		if err != nil || len(page.Links) != 1 || page.Links[0].Slug != want {
			t.Errorf("%q after the backfill: %+v %v, want %s", q, page.Links, err, want)
		}
	}
	if _, err := m.DownTo(ctx, searchTextVersion-1); err != nil {
		t.Fatal(err)
	}
	var left int
	conn.Get(&left, `SELECT count(*) FROM information_schema.columns WHERE column_name = 'search_text'`)
	var oldIndexes int
	conn.Get(&oldIndexes, `SELECT count(*) FROM pg_indexes WHERE indexname IN ('short_links_search_idx', 'businesses_search_idx')`)
	if left != 0 || oldIndexes != 2 {
		t.Errorf("after rolling back: %d search_text columns, %d of the trigram indexes of 00005", left, oldIndexes)
	}
}

// Migrations 00015–00019 move the counts to link_counters and start the
// results rollups from what is already there: no count is lost, and the
// link listing, the results and a later flush agree with the old figures.
func TestCountersAndRollupsMigrationsBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const linkCountersVersion = 15
	conn, m := migratedBefore(t, linkCountersVersion)
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, link_type, is_active, click_count, preview_count) VALUES
		('cnt111', 'https://a.example.com/', 'sms', true, 12, 3),
		('cnt222', 'https://b.example.com/', 'sms', true, 30, 1)`)
	conn.MustExec(`INSERT INTO businesses (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'Rosa')`)
	conn.MustExec(`INSERT INTO campaign_sends (id, business_id, variant, message, link_id, slug, short_url, encoding,
			segments, cost_micros, currency, sent_at, clicks)
		SELECT ('00000000-0000-4000-8000-00000000000' || i)::uuid, '00000000-0000-4000-8000-000000000001', 'friendly', 'm',
		       (SELECT id FROM short_links WHERE slug = 'cnt111'), 'cnt111', 'https://s/cnt111', 'GSM-7', 1, 7900, 'USD',
		       timestamptz '2026-11-01 10:00Z' + i * interval '1 day', CASE WHEN i = 1 THEN 5 ELSE 0 END
		FROM generate_series(1, 2) i`)
	conn.MustExec(`INSERT INTO campaign_variant_businesses (variant, business_id, clicks) VALUES ('friendly', '00000000-0000-4000-8000-000000000001', 5)`)
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	s := db.New(conn, db.Options{})
	page, err := s.ListLinks(ctx, db.ListFilter{Sort: db.SortMostClicks})
	if err != nil || len(page.Links) != 2 || page.Links[0].ClickCount != 30 || page.Links[1].ClickCount != 12 || page.Links[1].PreviewCount != 3 {
		t.Fatalf("listing after the migration: %+v, %v; want 30 then 12 clicks (3 previews)", page.Links, err)
	}
	var hours []struct {
		Hour   time.Time `db:"hour"`
		Sends  int64     `db:"sends"`
		Clicks int64     `db:"clicks"`
	}
	if err := conn.Select(&hours, `SELECT hour, sends, clicks FROM campaign_variant_hours ORDER BY hour`); err != nil || len(hours) != 2 || hours[0].Clicks != 5 || hours[1].Sends != 1 {
		t.Errorf("hour rollup %+v, %v; want 2 hours, 5 clicks in the first", hours, err)
	}
	var last, clicked time.Time
	conn.QueryRow(`SELECT last_sent_at, last_clicked_at FROM campaign_variant_businesses`).Scan(&last, &clicked)
	if !last.Equal(time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)) || !clicked.Equal(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("last sent %s, last clicked %s; want the 3rd and the 2nd", last, clicked)
	}
	since := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC) // after the clicked send: 1 send, 1 business, no click
	rows, err := s.CampaignResults(ctx, &since, nil)
	if err != nil || len(rows) != 1 || rows[0].Sends != 1 || rows[0].BusinessesSent != 1 || rows[0].BusinessesClicked != 0 || rows[0].Clicks != 0 {
		t.Errorf("results since %s: %+v, %v", since, rows, err)
	}

	// A send now moves the business from the 3rd to now: still one
	// business in the window, and one send more.
	var link db.Link
	conn.Get(&link, `SELECT id, slug FROM short_links WHERE slug = 'cnt111'`)
	key := "today"
	if _, _, err := s.RecordSend(ctx, db.NewSend{BusinessID: "00000000-0000-4000-8000-000000000001", Variant: "friendly",
		Message: "m", LinkID: link.ID, Slug: link.Slug, ShortURL: "https://s/cnt111", Encoding: "GSM-7", Segments: 1,
		CostMicros: 7900, Currency: "USD"}, db.Idempotency{Key: key, RequestHash: []byte(key)}); err != nil {
		t.Fatal(err)
	}
	rows, err = s.CampaignResults(ctx, &since, nil)
	if err != nil || len(rows) != 1 || rows[0].Sends != 2 || rows[0].BusinessesSent != 1 {
		t.Errorf("results since %s after a send today: %+v, %v; want 2 sends to 1 business", since, rows, err)
	}
	var onThe3rd int64
	conn.Get(&onThe3rd, `SELECT businesses_sent_last FROM campaign_variant_hours WHERE hour = '2026-11-03 10:00Z'`)
	if onThe3rd != 0 {
		t.Errorf("the business still counted on the 3rd (%d) after a later send", onThe3rd)
	}
}

// A database migrated by main before the accounts migrations (00025-00029)
// were merged has 00030 and later but not them: the next start applies them
// out of order instead of refusing to start.
func TestAccountsMigrationsFillTheGap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := openTestDB(t)
	withoutAccounts := fstest.MapFS{}
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return err
		}
		if v, _ := strconv.Atoi(path[:5]); v >= 25 && v <= 29 {
			return nil
		}
		b, err := fs.ReadFile(migrations.FS, path)
		withoutAccounts[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	old, err := migrations.NewFromFS(conn.DB, withoutAccounts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Up(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := migrations.New(conn.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("migrating a database that lacks 00025-00029: %v", err)
	}
	for v := int64(25); v <= 29; v++ {
		if !applied(t, m)[v] {
			t.Errorf("migration %d not applied", v)
		}
	}
	var n int
	if err := conn.Get(&n, `SELECT COUNT(*) FROM users`); err != nil {
		t.Errorf("users after filling the gap: %v", err)
	}
}

// A concurrent index build that failed (a lock timeout while it waited for
// an older transaction, a killed migration) leaves an INVALID index; the
// file's rerun must rebuild it, not skip it as existing and record the file
// applied with an index no query uses.
func TestInterruptedConcurrentIndexIsRebuilt(t *testing.T) {
	t.Parallel()
	const urlIndexVersion, index = 38, "short_links_search_url_idx"
	ctx := context.Background()
	conn, m := migratedBefore(t, urlIndexVersion)
	// What a failed CREATE INDEX CONCURRENTLY leaves behind: the index,
	// marked invalid (the test server's superuser may mark it so).
	conn.MustExec(`CREATE INDEX ` + index + ` ON short_links USING gin (split_part(search_text, ' | ', 1) gin_trgm_ops)`)
	conn.MustExec(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = '` + index + `'::regclass`)

	if _, err := m.UpTo(ctx, urlIndexVersion); err != nil {
		t.Fatal(err)
	}
	var valid bool
	if err := conn.Get(&valid, `SELECT indisvalid FROM pg_index WHERE indexrelid = $1::regclass`, index); err != nil {
		t.Fatal(err)
	}
	if !valid {
		t.Errorf("migration %d recorded applied with %s still invalid", urlIndexVersion, index)
	}
}
