package db_test

import (
	"context"
	"testing"

	"github.com/shortlinks/shortlinks/db"
)

// Conflicts resolved by two instances add up in the persisted total, and
// flushing twice does not count twice.
func TestConflictsTotalIsPersistedAcrossInstances(t *testing.T) {
	t.Parallel()
	first := newTestStore(t, db.Options{})
	second := db.New(first.DB(), db.Options{})
	ctx := context.Background()
	loseRace(t, first, "https://a.example.com/")
	loseRace(t, second, "https://b.example.com/")
	loseRace(t, second, "https://c.example.com/")
	if got := first.Counters().ConflictsResolved + second.Counters().ConflictsResolved; got != 3 {
		t.Fatalf("%d conflicts resolved, want 3", got)
	}
	if total, err := first.ConflictsTotal(ctx); err != nil || total != 1 {
		t.Fatalf("before any flush: total %d %v, want this instance's 1", total, err)
	}
	for _, s := range []*db.Store{first, second, first} {
		if err := s.FlushCounters(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*db.Store{first, second} {
		if total, err := s.ConflictsTotal(ctx); err != nil || total != 3 {
			t.Errorf("after flushes: total %d %v, want 3", total, err)
		}
	}
	loseRace(t, first, "https://d.example.com/")
	if total, _ := second.ConflictsTotal(ctx); total != 3 {
		t.Errorf("another instance's unflushed conflict is counted: total %d, want 3", total)
	}
	if total, _ := first.ConflictsTotal(ctx); total != 4 {
		t.Errorf("own unflushed conflict not counted: total %d, want 4", total)
	}
	// A restarted instance starts at zero but still sees the total.
	first.FlushCounters(ctx)
	restarted := db.New(first.DB(), db.Options{})
	if total, _ := restarted.ConflictsTotal(ctx); total != 4 || restarted.Counters().ConflictsResolved != 0 {
		t.Errorf("after restart: total %d, since start %d", total, restarted.Counters().ConflictsResolved)
	}
}

// loseRace makes one GetOrCreateLink on s resolve through the conflict path:
// it meets another transaction's uncommitted insert, waits for it, and
// finds the insert committed.
func loseRace(t *testing.T, s *db.Store, url string) {
	t.Helper()
	ctx := context.Background()
	tx := s.DB().MustBegin()
	defer tx.Rollback()
	tx.MustExec(`INSERT INTO short_links (slug, destination_url) VALUES (substr(md5($1), 1, 8), $1)`, url)
	before := s.Counters().ConflictsResolved
	done := make(chan error, 1)
	go func() {
		_, _, err := s.GetOrCreateLink(ctx, siteLink(url))
		done <- err
	}()
	// Wait until the call blocks on the pending insert's index entry.
	waitForLockWaiter(t, s, "", "get-or-create")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s.Counters().ConflictsResolved != before+1 {
		t.Fatalf("the call did not go through the conflict path")
	}
}
