package redirects_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/redirects"
)

// heldLookups is the real store whose lookups, once answered by the
// database, hold their connection until release is closed: a slow database
// seen from the redirect path.
type heldLookups struct {
	*db.Store
	release           chan struct{}
	inFlight, maxSeen atomic.Int64
}

func (s *heldLookups) RedirectTarget(ctx context.Context, slug string) (db.RedirectTarget, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxSeen.Load()
		if n <= m || s.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	t, err := s.Store.RedirectTarget(ctx, slug)
	<-s.release
	return t, err
}

// A flood of unknown slugs takes at most MaxLookups database lookups at
// once; the rest wait briefly for a slot and then fail fast with ErrBusy,
// so the pool stays available to everything else.
func TestConcurrentMissesAreBounded(t *testing.T) {
	t.Parallel()
	store := &heldLookups{Store: newStore(t), release: make(chan struct{})}
	s := redirects.New(store, redirects.Options{MaxLookups: 4}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { s.Close(context.Background()) })

	const flood = 20
	errs := make(chan error, flood)
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			_, err := s.Lookup(context.Background(), fmt.Sprintf("guess%d", i))
			errs <- err
		})
	}
	// The 16 lookups that found no slot give up after LookupWait while
	// the 4 holders are still held.
	busy, deadline := 0, time.After(10*time.Second)
	for busy < flood-4 {
		select {
		case err := <-errs:
			if !errors.Is(err, redirects.ErrBusy) {
				t.Fatalf("lookup while every slot is held: %v, want ErrBusy", err)
			}
			busy++
		case <-deadline:
			t.Fatalf("only %d of %d waiting lookups gave up", busy, flood-4)
		}
	}
	for store.inFlight.Load() < 4 {
		select {
		case <-deadline:
			t.Fatalf("%d lookups reached the database, want 4", store.inFlight.Load())
		case <-time.After(time.Millisecond):
		}
	}
	if got := store.maxSeen.Load(); got != 4 {
		t.Errorf("database lookups in flight at once: %d, want 4 (MaxLookups)", got)
	}
	close(store.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("held lookup: %v, want an answer (not found)", err)
		}
	}
}
