package redirects

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Stats are the service's counters since it started, for metrics and
// logs. Every redirect response is either one of Redirects (a person's tap,
// Clicks + DroppedClicks) or one of Previews (counted or DroppedPreviews).
type Stats struct {
	Redirects       int64 // taps sent on to their destination, counted or dropped; previews apart
	Clicks          int64 // clicks counted (GET by a person)
	Previews        int64 // HEAD requests and preview robots redirected, counted apart or dropped
	NotFound        int64 // lookups of unknown slugs or unacceptable destinations (malformed slugs never get here)
	Gone            int64 // answers for deactivated links
	Busy            int64 // misses refused because every lookup slot stayed taken (ErrBusy)
	Limited         int64 // requests refused by the unknown-slug limit before any lookup; counted by the HTTP layer
	ClicksFlushed   int64 // clicks confirmed written to the database
	PreviewsFlushed int64 // previews confirmed written
	FlushFailures   int64 // flush statements that failed (and were retried)
	ReplayedBatches int64 // retried batches the database had already applied
	PendingClicks   int64 // clicks and previews counted but not yet written
	PendingRows     int64 // (link, day) rows in memory, bounded by MaxPending; a link may hold one per counting stripe
	DroppedClicks   int64 // clicks not counted because MaxPending was reached
	DroppedPreviews int64 // previews served but not counted because MaxPending was reached
	// OldestUnwritten is how long the oldest click or preview not yet
	// written has waited (0 when none waits).
	OldestUnwritten time.Duration
	SplitBatches    int64 // batches split in two after failing repeatedly
	DeadLetters     int64 // batches of one link moved to the dead-letter table (replayable, not lost)
	DeadClicks      int64 // the clicks in them
	CacheHits       int64 // lookups answered from a fresh cache entry
	CacheMisses     int64 // lookups that went to the database (or found it away)
	StaleServed     int64 // expired answers served because the database was slow or away
	CacheEntries    int64 // slugs cached now
	FeedConnected   bool  // whether the LISTEN/NOTIFY change feed is up
}

// Stats returns the current counters. It takes the counting lock briefly,
// so call it for a scrape, not per request.
func (s *Service) Stats() Stats {
	a := s.clicks
	// Flushed totals first: read after, the counted totals can only be
	// larger, so PendingClicks never goes negative.
	fc, fp := a.flushedClicks.Load(), a.flushedPreviews.Load()
	dc, dp := a.droppedClicks.Load(), a.droppedPreviews.Load()
	clicks, previews, _ := a.pending.totals()
	rows := a.pendingRows()
	var oldest time.Duration
	if t := a.oldestUnwritten(); !t.IsZero() {
		oldest = max(time.Since(t), 0)
	}
	deadClicks, deadPreviews := a.deadClicks.Load(), a.deadPreviews.Load()
	return Stats{
		Redirects:       clicks + dc,
		Clicks:          clicks,
		Previews:        previews + dp,
		NotFound:        s.notFound.Load(),
		Gone:            s.gone.Load(),
		Busy:            s.busy.Load(),
		ClicksFlushed:   fc,
		PreviewsFlushed: fp,
		FlushFailures:   a.flushFailures.Load(),
		ReplayedBatches: a.replayed.Load(),
		PendingClicks:   clicks + previews - fc - fp - deadClicks - deadPreviews,
		PendingRows:     rows,
		DroppedClicks:   dc,
		DroppedPreviews: dp,
		OldestUnwritten: oldest,
		SplitBatches:    a.splits.Load(),
		DeadLetters:     a.deadLetters.Load(),
		DeadClicks:      deadClicks,
		CacheHits:       s.hits.load(),
		CacheMisses:     s.misses.Load(),
		StaleServed:     s.stale.Load(),
		CacheEntries:    int64(s.cache.len()),
		FeedConnected:   s.feedUp.Load(),
	}
}

// stripedCounter is a counter every redirect adds to (cache hits): spread
// over stripes picked at random, so redirects running at once on
// different cores do not fight over one cache line.
type stripedCounter [pendingStripes]struct {
	n atomic.Int64
	_ [56]byte
}

func (c *stripedCounter) add() { c[rand.Uint32()%pendingStripes].n.Add(1) }

func (c *stripedCounter) load() (n int64) {
	for i := range c {
		n += c[i].n.Load()
	}
	return n
}
