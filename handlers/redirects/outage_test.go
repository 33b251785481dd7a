package redirects_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/redirects"
)

// outage is the real store behind a switch: while down, every flush fails
// before reaching the database. It records each batch ID it is sent, with
// the rows first sent under it, so a test can check that a retried batch
// never changes and that each reached the database once.
type outage struct {
	*db.Store
	down     atomic.Bool
	attempts atomic.Int64

	mu      sync.Mutex
	sent    map[string][]db.ClickRow // batch ID -> rows of its first attempt
	changed []string                 // IDs resent with other rows
	upIDs   map[string]int           // IDs sent while up -> attempts
}

func newOutage(s *db.Store) *outage {
	return &outage{Store: s, sent: map[string][]db.ClickRow{}, upIDs: map[string]int{}}
}

func (o *outage) FlushClicks(ctx context.Context, b db.ClickBatch) (bool, error) {
	down := o.record(b)
	defer o.attempts.Add(1)
	if down {
		return false, fmt.Errorf("store: flush: %w: dial tcp 127.0.0.1:5432: connect: connection refused", db.ErrUnavailable)
	}
	return o.Store.FlushClicks(ctx, b)
}

func (o *outage) record(b db.ClickBatch) (down bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if first, ok := o.sent[b.ID]; !ok {
		o.sent[b.ID] = slices.Clone(b.Rows)
	} else if !slices.Equal(first, b.Rows) {
		o.changed = append(o.changed, b.ID)
	}
	down = o.down.Load()
	if !down {
		o.upIDs[b.ID]++
	}
	return down
}

// waitFlushes waits until the flusher has tried n more flushes, so clicks
// counted before the call are cut into a batch by the second (the first
// may have been under way already).
func (o *outage) waitFlushes(t *testing.T, n int64) {
	t.Helper()
	want := o.attempts.Load() + n
	deadline := time.Now().Add(5 * time.Second)
	for o.attempts.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("flusher stalled at %d attempts, want %d", o.attempts.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// An outage longer than MaxPending flush ticks loses nothing: the queue
// left by the first failure is retried as it is, new clicks merge into the
// pending rows of their links, and once the database is back every click
// and preview is written exactly once. (Cutting pending into a new batch
// every tick used to queue a row per link per tick, until add dropped
// every click.)
func TestLongOutageDropsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newOutage(newStore(t))
	const links, maxPending, ticks, perTick = 3, 100, 150, 10
	// LookupWait: a loaded machine can keep the lookup lane's goroutine
	// from starting within the default 250 ms (ErrBusy, seen in a full
	// make test); the setup's lookups are not what this test is about. The
	// other tests that only need a lookup to succeed do the same.
	s := redirects.New(store, redirects.Options{FlushInterval: time.Millisecond, MaxPending: maxPending, LookupWait: time.Minute},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	targets, slugs := make([]*redirects.Target, links), make([]string, links)
	for i := range targets {
		l, _, err := store.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://outage.example.com/" + string(rune('a'+i)), LinkType: "site_preview"})
		if err != nil {
			t.Fatal(err)
		}
		slugs[i] = l.Slug
		if targets[i], err = s.Lookup(ctx, l.Slug); err != nil {
			t.Fatal(err)
		}
	}

	store.down.Store(true)
	for range ticks {
		for _, tg := range targets {
			for range perTick {
				s.Count(tg, false)
			}
			s.Count(tg, true)
		}
		store.waitFlushes(t, 2)
	}
	// Rows in memory: one per link queued, one per link and counting
	// stripe pending, and as many more per link should a UTC day have
	// begun meanwhile; never a row per tick.
	st := s.Stats()
	if bound := int64(links * (1 + 2*redirects.PendingStripes)); st.DroppedClicks != 0 || st.DroppedPreviews != 0 || st.PendingRows > bound {
		t.Errorf("during the outage: %+v; want nothing dropped and at most %d rows waiting", st, bound)
	}

	store.down.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().PendingClicks > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st = s.Stats()
	want := int64(links * ticks * perTick)
	if st.ClicksFlushed != want || st.PreviewsFlushed != links*ticks || st.Redirects != want || st.Previews != links*ticks {
		t.Errorf("after the outage: %+v; want %d clicks and %d previews counted and flushed", st, want, links*ticks)
	}
	for _, slug := range slugs {
		got, err := store.FindBySlug(ctx, slug)
		if err != nil || got.ClickCount != ticks*perTick || got.PreviewCount != ticks {
			t.Errorf("%s: click_count %d, preview_count %d, %v; want %d and %d", slug, got.ClickCount, got.PreviewCount, err, ticks*perTick, ticks)
		}
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	// The batch that waited out the outage, then what gathered behind it.
	if n := len(store.sent); n != 2 {
		t.Errorf("%d batches written, want 2", n)
	}
	if len(store.changed) > 0 {
		t.Errorf("batches resent with other contents: %v", store.changed)
	}
	for id, n := range store.upIDs {
		if n != 1 {
			t.Errorf("batch %s sent %d times to a reachable database, want once", id, n)
		}
	}
}
