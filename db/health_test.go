package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

func TestDuplicateCheckReportsForcedDuplicates(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	if _, err := s.LatestDuplicateCheck(ctx); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("fresh database has a check: %v", err)
	}
	c, err := s.RunDuplicateCheck(ctx, db.CheckOptions{})
	if err != nil || c.DuplicateGroups != 0 {
		t.Fatalf("fresh database: %+v %v", c, err)
	}
	if st, err := s.UniqueIndexState(ctx); err != nil || !st.Present || !st.Valid {
		t.Fatalf("index state: %+v %v", st, err)
	}
	l, _, _ := s.GetOrCreateLink(ctx, siteLink("https://dentist.example.com/"))
	s.Deactivate(ctx, l.Slug)
	s.GetOrCreateLink(ctx, siteLink("https://dentist.example.com/"))

	// Break the guarantee the way an operator could: drop the index, insert.
	s.DB().MustExec(`DROP INDEX ` + db.UniqueIndexName)
	s.DB().MustExec(`INSERT INTO short_links (slug, destination_url) VALUES ('dupdup', 'https://dentist.example.com/')`)
	if st, err := s.UniqueIndexState(ctx); err != nil || st.Present {
		t.Errorf("index state after DROP INDEX: %+v %v", st, err)
	}
	// A recent check is reused when a MaxAge allows it...
	if again, err := s.RunDuplicateCheck(ctx, db.CheckOptions{MaxAge: time.Hour}); err != nil || again.ID != c.ID {
		t.Errorf("a check within MaxAge ran again: %+v %v", again, err)
	}
	// ...and a new one sees the duplicate.
	c, err = s.RunDuplicateCheck(ctx, db.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.DuplicateGroups != 1 || c.DuplicateLinks != 2 || c.ActiveLinks != 2 || c.InactiveLinks != 1 || c.HistoryLinks != 1 {
		t.Errorf("check with a forced duplicate: %+v", c)
	}
	if len(c.Groups) != 1 || len(c.Groups[0].Slugs) != 2 || c.Groups[0].Slugs[1] != "dupdup" {
		t.Errorf("groups: %+v", c.Groups)
	}
	// Every instance reads the same stored result.
	other := db.New(s.DB(), db.Options{})
	if latest, err := other.LatestDuplicateCheck(ctx); err != nil || latest.ID != c.ID || len(latest.Groups) != 1 || latest.Groups[0].Slugs[1] != "dupdup" {
		t.Errorf("latest check seen by another store: %+v %v", latest, err)
	}
}

// Instances that all try to check at once run the full check once: the
// others find it running (advisory lock) and skip.
func TestDuplicateCheckRunsOnOneInstanceAtATime(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	tx := s.DB().MustBegin() // hold the lock as a running check would
	defer tx.Rollback()
	var got bool
	if err := tx.Get(&got, `SELECT pg_try_advisory_xact_lock($1)`, int64(0x73686f72_74647570)); err != nil || !got {
		t.Fatalf("taking the check lock: %v %v", got, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.RunDuplicateCheck(ctx, db.CheckOptions{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, db.ErrNotFound) { // skipped, and no check exists yet
			t.Errorf("a check ran while another held the lock: %v", err)
		}
	}
	tx.Rollback()
	if _, err := s.RunDuplicateCheck(ctx, db.CheckOptions{}); err != nil {
		t.Errorf("after the lock was released: %v", err)
	}
	var n int
	s.DB().Get(&n, `SELECT count(*) FROM duplicate_checks`)
	if n != 1 {
		t.Errorf("%d checks stored, want 1", n)
	}
}
