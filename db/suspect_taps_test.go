package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// A suspect-tap batch adds once per ID, however often it is sent (a retry
// after a lost commit answer), and skips links deleted meanwhile.
func TestFlushSuspectTapsIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	a, _, _ := s.GetOrCreateLink(ctx, siteLink("https://suspect.example.com/a"))
	b, _, _ := s.GetOrCreateLink(ctx, siteLink("https://suspect.example.com/b"))
	gone, _, _ := s.GetOrCreateLink(ctx, siteLink("https://suspect.example.com/gone"))
	s.DB().MustExec(`DELETE FROM short_links WHERE id = $1`, gone.ID)

	batch := db.SuspectBatch{ID: db.NewBatchID(), Links: []int64{a.ID, b.ID, gone.ID}, Taps: []int64{3, 1, 7}}
	for i, want := range []bool{true, false} {
		applied, err := s.FlushSuspectTaps(ctx, batch)
		if err != nil || applied != want {
			t.Fatalf("attempt %d: applied %v, %v; want %v", i+1, applied, err, want)
		}
	}
	if _, err := s.FlushSuspectTaps(ctx, db.SuspectBatch{ID: db.NewBatchID(), Links: []int64{a.ID}, Taps: []int64{2}}); err != nil {
		t.Fatal(err)
	}
	for l, want := range map[int64]int64{a.ID: 5, b.ID: 1, gone.ID: 0} {
		if got, err := s.SuspectTaps(ctx, l); err != nil || got != want {
			t.Errorf("link %d: %d suspect taps (%v), want %d", l, got, err, want)
		}
	}
	// Clicks are untouched: suspect taps are not clicks.
	if got, _ := s.FindBySlug(ctx, a.Slug); got.ClickCount != 0 {
		t.Errorf("click_count %d, want 0", got.ClickCount)
	}
	if _, err := s.FlushSuspectTaps(ctx, db.SuspectBatch{ID: db.NewBatchID(), Links: []int64{b.ID, a.ID}, Taps: []int64{1, 1}}); !errors.Is(err, db.ErrInvalidInput) {
		t.Errorf("unsorted links: %v, want ErrInvalidInput", err)
	}
	if n, err := s.PruneSuspectFlushes(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Errorf("pruned %d (%v), want the 2 applied batches", n, err)
	}
}
