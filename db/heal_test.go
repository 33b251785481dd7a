package db_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
)

// twoInstances returns two stores over one fresh database, each with its own
// connection pool, as two instances of the service would have.
func twoInstances(t *testing.T) (*db.Store, *db.Store) {
	t.Helper()
	url := pgtest.NewMigratedDatabase(t)
	var stores [2]*db.Store
	for i := range stores {
		conn, err := db.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		stores[i] = db.New(conn, db.Options{})
	}
	return stores[0], stores[1]
}

// With the unique index dropped, 300 concurrent creates of one destination
// over two instances give one link and no error; once a heal has rebuilt
// the index the store says so and creates go back to ON CONFLICT.
func TestGetOrCreateWithoutUniqueIndexAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := twoInstances(t)
	a.DB().MustExec(`DROP INDEX ` + db.UniqueIndexName)

	const url = "https://bakery.example.com/"
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	slugs := make(chan string, 300)
	created := make(chan bool, 300)
	// All start at once, so both instances' callers are creating (and
	// find the index missing) before the first link commits.
	start := make(chan struct{})
	for i := range 300 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			l, c, err := s.GetOrCreateLink(ctx, siteLink(url))
			if err != nil {
				errs <- err
				return
			}
			slugs <- l.Slug
			created <- c
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	close(slugs)
	close(created)
	for err := range errs {
		t.Errorf("create without the index: %v", err)
	}
	distinct := map[string]bool{}
	for s := range slugs {
		distinct[s] = true
	}
	winners := 0
	for c := range created {
		if c {
			winners++
		}
	}
	if n := countActive(t, a, url); n != 1 || len(distinct) != 1 || winners != 1 {
		t.Fatalf("%d active links, %d slugs returned, %d creators; want 1, 1, 1", n, len(distinct), winners)
	}
	if !a.Degraded() || !b.Degraded() {
		t.Errorf("degraded = %t, %t; both instances ran without the index", a.Degraded(), b.Degraded())
	}
	var audited int
	if err := a.DB().Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'link.created' AND object_id = (
			SELECT slug FROM short_links WHERE is_active AND destination_url = $1)`, url); err != nil || audited != 1 {
		t.Errorf("%d link.created audit rows for the one link (%v), want 1", audited, err)
	}

	if _, err := a.Heal(ctx, db.HealOptions{Source: "cli"}); err != nil {
		t.Fatal(err)
	}
	if st, err := a.UniqueIndexState(ctx); err != nil || !st.Present || !st.Valid {
		t.Fatalf("index after heal: %+v %v", st, err)
	}
	if a.Degraded() {
		t.Error("still degraded after the heal rebuilt the index")
	}
	l, c, err := a.GetOrCreateLink(ctx, siteLink("https://florist.example.com/"))
	if err != nil || !c || l.Slug == "" {
		t.Errorf("create after the heal: %+v %t %v", l, c, err)
	}
}

// Activating a link while the index is missing still refuses a second
// active link for the destination.
func TestActivateWithoutUniqueIndexRefusesDuplicate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	old, _, _ := s.GetOrCreateLink(ctx, siteLink("https://tailor.example.com/"))
	if _, err := s.Deactivate(ctx, old.Slug); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetOrCreateLink(ctx, siteLink("https://tailor.example.com/")); err != nil {
		t.Fatal(err)
	}
	s.DB().MustExec(`DROP INDEX ` + db.UniqueIndexName)
	if _, err := s.Activate(ctx, old.Slug); !errors.Is(err, db.ErrConflict) {
		t.Errorf("activate beside an active link without the index: %v, want ErrConflict", err)
	}
	if n := countActive(t, s, "https://tailor.example.com/"); n != 1 {
		t.Errorf("%d active links, want 1", n)
	}
}

// seedDuplicates drops the index and inserts groups duplicate groups of
// three links each (created 1 s apart, newest first), plus a link that
// an older heal had merged into the newest of each group.
func seedDuplicates(t *testing.T, s *db.Store, groups int) {
	t.Helper()
	s.DB().MustExec(`DROP INDEX IF EXISTS ` + db.UniqueIndexName)
	s.DB().MustExec(`INSERT INTO short_links (slug, destination_url, created_at)
		SELECT 'g' || g || 'n' || n, 'https://dup' || g || '.example.com/', now() - n * interval '1 second'
		FROM generate_series(1, $1) g, generate_series(0, 2) n`, groups)
	s.DB().MustExec(`INSERT INTO short_links (slug, destination_url, is_active, superseded_by)
		SELECT 'g' || g || 'old', 'https://dup' || g || '.example.com/', false, l.id
		FROM generate_series(1, $1) g JOIN short_links l ON l.slug = 'g' || g || 'n0'`, groups)
}

// The heal keeps the oldest link of every group, merges the others into it
// (re-pointing what was merged into them), records every merge, reports
// progress, and ends with the unique index valid.
func TestHealMergesDuplicatesAndRebuildsIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	seedDuplicates(t, s, 1200) // more than two batches of 500

	var steps int
	var last db.HealRun
	run, err := s.Heal(db.WithActor(ctx, db.CLIActor), db.HealOptions{Source: "cli", Progress: func(r db.HealRun) { steps++; last = r }})
	if err != nil {
		t.Fatal(err)
	}
	// The audit trail has the run and every merged link, by the CLI.
	var runs, merged int
	err = s.DB().Get(&runs, `SELECT count(*) FROM audit_log WHERE action = 'heal.run' AND actor = 'cli' AND after->>'state' = 'done'`)
	if err == nil {
		err = s.DB().Get(&merged, `SELECT count(*) FROM audit_log WHERE action = 'link.merged' AND actor = 'cli'`)
	}
	if err != nil || runs != 1 || merged != 2400 {
		t.Errorf("audit rows: %d heal.run, %d link.merged by cli (%v); want 1 and 2400", runs, merged, err)
	}
	if run.State != "done" || run.GroupsFound != 1200 || run.GroupsDone != 1200 || run.LinksMerged != 2400 || run.FinishedAt == nil {
		t.Errorf("run: %+v", run)
	}
	if steps < 1200/100+2 || last.GroupsDone != 1200 {
		t.Errorf("%d progress calls, last %+v", steps, last)
	}
	var bad int
	err = s.DB().Get(&bad, `SELECT count(*) FROM short_links l
		LEFT JOIN short_links keep ON keep.slug = regexp_replace(l.slug, '(n[01]|old)$', 'n2')
		WHERE (l.slug LIKE '%n2') <> l.is_active
		   OR (l.slug NOT LIKE '%n2' AND l.superseded_by IS DISTINCT FROM keep.id)`)
	if err != nil || bad != 0 {
		t.Errorf("%d links not merged into the oldest of their group (%v)", bad, err)
	}
	merges, err := s.HealMerges(ctx, run.ID, 5000)
	if err != nil || len(merges) != 2400 {
		t.Errorf("%d merges recorded (%v), want 2400", len(merges), err)
	}
	if st, _ := s.UniqueIndexState(ctx); !st.Present || !st.Valid {
		t.Errorf("index after heal: %+v", st)
	}
	if c, err := s.RunDuplicateCheck(ctx, db.CheckOptions{}); err != nil || c.DuplicateGroups != 0 {
		t.Errorf("check after heal: %+v %v", c, err)
	}
}

// A heal interrupted part-way (its context ends, as at a shutdown, or its
// process is killed and the connection dies) is resumed by the next heal,
// which finishes the same run.
func TestHealResumesAfterInterruption(t *testing.T) {
	t.Parallel()
	s, killed := twoInstances(t)
	s = db.New(s.DB(), db.Options{Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	seedDuplicates(t, s, 700)

	ctx, cancel := context.WithCancel(context.Background())
	_, err := s.Heal(ctx, db.HealOptions{BatchGroups: 200, Progress: func(r db.HealRun) {
		if r.State == "healing" && r.GroupsDone > 0 {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("interrupted heal reported success")
	}
	first, err := s.LatestHealRun(context.Background())
	if err != nil || first.FinishedAt != nil || first.Running || first.GroupsDone == 0 || first.GroupsDone == 700 {
		t.Fatalf("interrupted run: %+v %v", first, err)
	}

	// kill -9 of a process in the middle of a step: its transaction dies
	// with its connection, nothing of the step remains.
	tx, err := killed.DB().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n, pid int
	if err := tx.QueryRow(`SELECT heal_batch($1, 100), pg_backend_pid()`, first.ID).Scan(&n, &pid); err != nil || n != 100 {
		t.Fatalf("a step of the killed heal: %d %v", n, err)
	}
	// Its connection goes, uncommitted, as when its process is killed.
	s.DB().MustExec(`SELECT pg_terminate_backend($1)`, pid)
	run, err := s.Heal(context.Background(), db.HealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if run.ID != first.ID || run.State != "done" || run.GroupsDone != 700 || run.LinksMerged != 1400 {
		t.Errorf("resumed run: %+v (first %d)", run, first.ID)
	}
	if st, _ := s.UniqueIndexState(context.Background()); !st.Valid {
		t.Error("index not valid after the resumed heal")
	}
}

// Only one heal runs at a time across instances, and one left INVALID by a
// failed concurrent build is dropped and built again.
func TestHealOneAtATimeAndRebuildsInvalidIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := twoInstances(t)
	seedDuplicates(t, a, 3)
	// A concurrent build over duplicates fails and leaves the index INVALID.
	if _, err := a.DB().Exec(`CREATE UNIQUE INDEX CONCURRENTLY ` + db.UniqueIndexName +
		` ON short_links (destination_hash, link_type) WHERE is_active`); err == nil {
		t.Fatal("building the unique index over duplicates succeeded")
	}
	if st, _ := a.UniqueIndexState(ctx); !st.Present || st.Valid {
		t.Fatalf("index after the failed build: %+v", st)
	}
	if _, _, err := a.GetOrCreateLink(ctx, siteLink("https://dup1.example.com/")); err != nil {
		t.Errorf("create beside an invalid index: %v", err)
	}

	conn, err := b.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(x'73686f727468656c'::bigint)`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Heal(ctx, db.HealOptions{}); !errors.Is(err, db.ErrHealRunning) {
		t.Errorf("heal while another holds the lock: %v, want ErrHealRunning", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(x'73686f727468656c'::bigint)`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Heal(ctx, db.HealOptions{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := a.UniqueIndexState(ctx); !st.Present || !st.Valid {
		t.Errorf("index after heal: %+v", st)
	}
}
