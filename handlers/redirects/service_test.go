package redirects_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/handlers/redirects"
)

// lostAnswers is the real store, except that the first n flushes lose
// their answer after committing, as when the connection breaks during
// COMMIT: the caller cannot tell whether the clicks were written.
type lostAnswers struct {
	*db.Store
	n atomic.Int64
}

func (s *lostAnswers) FlushClicks(ctx context.Context, b db.ClickBatch) (bool, error) {
	applied, err := s.Store.FlushClicks(ctx, b)
	if err == nil && s.n.Add(-1) >= 0 {
		return false, fmt.Errorf("store: flush: %w: read tcp: connection reset by peer", db.ErrUnavailable)
	}
	return applied, err
}

func newStore(t *testing.T) *db.Store {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Open(ctx, pgtest.NewMigratedDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return db.New(conn, db.Options{})
}

// A flush that committed but whose answer was lost is retried; the retry
// must find its batch already applied, so no click is counted twice.
func TestRetriedFlushDoesNotCountTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &lostAnswers{Store: newStore(t)}
	store.n.Store(2)
	l, _, err := store.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://retry.example.com/", LinkType: "site_preview"})
	if err != nil {
		t.Fatal(err)
	}
	s := redirects.New(store, redirects.Options{FlushInterval: 10 * time.Millisecond, LookupWait: time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	target, err := s.Lookup(ctx, l.Slug)
	if err != nil || target.Status != redirects.Found || target.Destination() != l.DestinationURL {
		t.Fatalf("lookup: %+v, %v", target, err)
	}
	for range 7 {
		s.Count(target, false)
	}
	s.Count(target, true)
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().PendingClicks > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.FlushFailures != 2 || st.ReplayedBatches != 1 || st.ClicksFlushed != 7 || st.PreviewsFlushed != 1 {
		t.Errorf("stats %+v: want 2 failures, 1 replayed batch, 7 clicks and 1 preview flushed", st)
	}
	got, _ := store.FindBySlug(ctx, l.Slug)
	if got.ClickCount != 7 || got.PreviewCount != 1 {
		t.Errorf("click_count %d, preview_count %d; want 7 and 1", got.ClickCount, got.PreviewCount)
	}
}

// Close writes what is still counted even when the flusher never ran.
func TestCloseFlushesEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	l, _, _ := store.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://close.example.com/", LinkType: "site_preview"})
	s := redirects.New(store, redirects.Options{FlushInterval: time.Hour, LookupWait: time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	target, err := s.Lookup(ctx, l.Slug)
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		s.Count(target, false)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got, _ := store.FindBySlug(ctx, l.Slug); got.ClickCount != 1000 {
		t.Errorf("click_count %d, want 1000", got.ClickCount)
	}
}
