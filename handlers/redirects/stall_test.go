package redirects_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/handlers/redirects"
)

// One link's counters row is locked by another transaction that never
// ends, so every flush touching it runs out of FLUSH_STATEMENT_TIMEOUT: a
// batch that can never finish. The flusher splits its way around it: every
// other link is written, taps arriving meanwhile too, and the stuck link's
// clicks end in the dead-letter table (not lost), from which a replay
// writes them once the lock is gone.
func TestStuckLinkDoesNotHoldBackTheOthers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := db.Open(ctx, pgtest.NewMigratedDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	store := db.New(conn, db.Options{FlushStatementTimeout: 300 * time.Millisecond}) // a healthy flush of a few links never takes that long, even loaded
	const links = 40
	targets := make([]*redirects.Target, links)
	ids := make([]int64, links)
	s := redirects.New(store, redirects.Options{FlushInterval: 10 * time.Millisecond, FlushTimeout: 5 * time.Second, LookupWait: time.Minute},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := range targets {
		l, _, err := store.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://stuck.example.com/" + string(rune('a'+i)), LinkType: "sms"})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = l.ID
		if targets[i], err = s.Lookup(ctx, l.Slug); err != nil {
			t.Fatal(err)
		}
	}
	stuck := ids[links/3]
	lock, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.ExecContext(ctx, `SELECT 1 FROM link_counters WHERE link_id = $1 FOR UPDATE`, stuck); err != nil {
		t.Fatal(err)
	}

	for _, tg := range targets {
		s.Count(tg, false)
		s.Count(tg, false)
	}
	clicksOf := func(id int64) (n int64) {
		conn.QueryRowContext(ctx, `SELECT click_count FROM link_counters WHERE link_id = $1`, id).Scan(&n)
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30 s; stats %+v", what, s.Stats())
			}
		}
	}
	// New taps keep being written while the stuck batch is retried.
	s.Count(targets[0], false)
	waitFor("every other link written", func() bool {
		for i, id := range ids {
			if id != stuck && clicksOf(id) != map[bool]int64{true: 3, false: 2}[i == 0] {
				return false
			}
		}
		return true
	})
	// The flusher publishes the letter, then refreshes the queue's age
	// when its send returns: wait for the whole state, then check it.
	waitFor("the stuck link dead-lettered, nothing pending", func() bool {
		st := s.Stats()
		return st.DeadLetters >= 1 && st.PendingClicks == 0 && st.OldestUnwritten == 0
	})
	st := s.Stats()
	if st.DeadLetters != 1 {
		t.Errorf("%d dead letters, want 1", st.DeadLetters)
	}
	if st.DeadClicks != 2 || st.SplitBatches == 0 || st.PendingClicks != 0 || st.OldestUnwritten != 0 {
		t.Errorf("stats %+v: want 2 clicks dead-lettered after splits, nothing pending", st)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("close: %v (dead-lettered clicks are kept, not lost)", err)
	}
	if n := clicksOf(stuck); n != 0 {
		t.Errorf("stuck link: %d clicks before the replay, want 0", n)
	}

	lock.Rollback()
	letters, err := store.ClickDeadLetters(ctx, 10)
	if err != nil || len(letters) != 1 || letters[0].LinkID != stuck || letters[0].Clicks != 2 {
		t.Fatalf("letters %+v, %v; want one of 2 clicks on link %d", letters, err, stuck)
	}
	if _, err := store.ReplayClickDeadLetter(ctx, letters[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := clicksOf(stuck); n != 2 {
		t.Errorf("stuck link: %d clicks after the replay, want 2", n)
	}
}
