package redirects

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// suspectFlushTimeout bounds one suspect-tap flush (and a prune), so a hung
// connection cannot stall it; the batch is simply retried.
const suspectFlushTimeout = 10 * time.Second

// SuspectStore is the part of db.Store that writes suspect taps.
type SuspectStore interface {
	FlushSuspectTaps(ctx context.Context, b db.SuspectBatch) (applied bool, err error)
	PruneSuspectFlushes(ctx context.Context, cutoff time.Time) (int64, error)
}

// suspects counts suspect taps: redirects of real links requested by a
// client over the unknown-slug limit. Such a tap may be a person behind the
// same carrier address as a guesser, or the guesser itself; it is
// redirected, but not counted as a click (it would inflate the link's
// clicks and its campaign's results), and is counted here instead, per
// link, written to link_suspect_taps by a flush of its own
// (db.Store.FlushSuspectTaps), apart from the click flush.
//
// Like clicks, the flush is idempotent: a failed batch is kept with its ID
// and sent again unchanged, while new taps gather in the map. Memory is
// bounded by maxLinks distinct links; a suspect tap past it is dropped and
// counted (droppedTaps), never silently.
type suspects struct {
	store    SuspectStore
	log      *slog.Logger
	maxLinks int

	mu      sync.Mutex
	pending map[int64]int64 // link → suspect taps not yet cut into a batch
	retry   *db.SuspectBatch

	counted, flushed, dropped, failures atomic.Int64
	lastFailLog                         time.Time // flusher only
}

func newSuspects(store SuspectStore, maxLinks int, log *slog.Logger) *suspects {
	return &suspects{store: store, log: log, maxLinks: maxLinks, pending: map[int64]int64{}}
}

// add counts one suspect tap on link.
func (s *suspects) add(link int64) {
	s.mu.Lock()
	if _, ok := s.pending[link]; !ok && len(s.pending) >= s.maxLinks {
		s.mu.Unlock()
		s.dropped.Add(1)
		return
	}
	s.pending[link]++
	s.counted.Add(1) // under the lock: a flush never sees a tap not yet counted
	s.mu.Unlock()
}

// flush writes the batch left by a failure, then everything pending.
func (s *suspects) flush(ctx context.Context) error {
	if s.retry == nil {
		s.mu.Lock()
		taken := s.pending
		if len(taken) == 0 {
			s.mu.Unlock()
			return nil
		}
		s.pending = map[int64]int64{}
		s.mu.Unlock()
		b := db.SuspectBatch{ID: db.NewBatchID(), Links: slices.Sorted(maps.Keys(taken))}
		for _, l := range b.Links {
			b.Taps = append(b.Taps, taken[l])
		}
		s.retry = &b
	}
	bctx, cancel := context.WithTimeout(ctx, suspectFlushTimeout)
	defer cancel()
	if _, err := s.store.FlushSuspectTaps(bctx, *s.retry); err != nil {
		s.failures.Add(1)
		return err
	}
	var n int64
	for _, t := range s.retry.Taps {
		n += t
	}
	s.flushed.Add(n)
	s.retry = nil
	return nil
}

// run flushes every interval until stop is closed, and prunes old batch
// IDs now and then (flushLoop).
func (s *suspects) run(ctx context.Context, stop <-chan struct{}, interval time.Duration) {
	flushLoop(stop, interval, func() bool {
		before := s.flushed.Load()
		if err := s.flush(ctx); err != nil && time.Since(s.lastFailLog) >= logEvery {
			s.lastFailLog = time.Now()
			s.log.Warn("suspect tap flush failed; retried", "err", err, "pending", s.unwritten())
		}
		return s.flushed.Load() > before
	}, func() error {
		pctx, cancel := context.WithTimeout(ctx, suspectFlushTimeout)
		defer cancel()
		_, err := s.store.PruneSuspectFlushes(pctx, time.Now().Add(-keepBatchIDs))
		return err
	})
}

// drain flushes until nothing is left, retrying until ctx ends; what is
// left then is lost, and said so.
func (s *suspects) drain(ctx context.Context) error {
	for {
		err := s.flush(ctx)
		if err == nil && s.unwritten() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			n := s.unwritten()
			s.log.Error("suspect taps lost at shutdown: the database did not take them in time", "suspect_taps", n, "err", err)
			return fmt.Errorf("redirects: %d suspect taps not written: %w", n, errors.Join(err, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unwritten is the suspect taps counted and not yet written.
func (s *suspects) unwritten() int64 {
	flushed := s.flushed.Load() // first: counted, read after, can only be larger
	return s.counted.Load() - flushed
}
