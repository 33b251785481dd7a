package redirects

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// Bounds of one flush.
const (
	// batchRows caps the rows of one FlushClicks statement, so a backlog
	// after an outage goes out in statements of sane size.
	batchRows = 5000
	// flushTimeout bounds one statement, so a hung connection cannot stall
	// counting; the batch is simply retried (its ID makes that safe).
	flushTimeout = 10 * time.Second
	// pruneEvery and keepBatchIDs: batch IDs are kept for a day, far longer
	// than any retry of an unconfirmed batch takes while the database is
	// reachable.
	pruneEvery   = time.Hour
	keepBatchIDs = 24 * time.Hour
	// logEvery rate-limits the repeated warnings of an outage.
	logEvery = 30 * time.Second
)

// clickKey is one link on one UTC day, the grain of link_clicks_daily.
type clickKey struct {
	link int64
	day  int32 // days since 1970-01-01, UTC
}

// tally is what a clickKey gathered since it was last cut into a batch.
type tally struct{ clicks, previews int64 }

// tapKey is the slug a recipient tapped (its link) and the link counting
// the tap: the same link, or the survivor of a superseded one.
type tapKey struct{ tapped, counted int64 }

// tapRun is the taps of one tapKey within one millisecond: the time a send
// attribution compares with the send's sent_at.
type tapRun struct{ ms, n int64 }

// clicks counts clicks in memory and writes them in batches, so a viral
// link costs one row update per flush instead of one per tap.
//
// Counting is a map increment under the lock of one of a few stripes
// picked at random (pending.go), so taps running at once on different
// cores, even on one viral link, rarely share a lock; memory grows with
// distinct (link, day) pairs (at most one row per stripe each), never with
// clicks.
//
// Writing has two stages. A flush first sends the queue left by earlier
// failures, in order, stopping at the first failure. Only once the queue is
// empty does it cut the pending map into batches with fresh IDs and send
// those. A failed batch stays at the head of the queue with its ID and is
// sent again, unchanged, next time: if the failed attempt had in fact
// committed, the database recognises the ID and adds nothing (see
// db.Store.FlushClicks). Clicks arriving meanwhile stay in pending, merged
// by (link, day), never into a batch that may already be applied.
//
// Cutting only into an empty queue is what keeps memory bounded by
// distinct rows during an outage: cutting every tick would queue a new row
// per active (link, day) per tick, and add would soon drop every click.
type clicks struct {
	store   Store
	log     *slog.Logger
	maxRows int // MAX_PENDING_CLICKS: (link, day) rows in memory (see pending)

	// pending holds the counts and tap times not yet cut (pending.go):
	// striped, so concurrent taps do not queue on one lock.
	pending *pending
	// since is when the rows now pending started to gather: no click in
	// them is older. The flusher alone reads and sets it (cut).
	since time.Time

	// queue is touched only by whoever flushes (the flusher goroutine,
	// then Close once that has stopped); queuedRows mirrors its size for
	// the bound checked by add.
	queue      []db.ClickBatch
	queuedRows atomic.Int64

	droppedClicks   atomic.Int64
	droppedPreviews atomic.Int64
	flushedClicks   atomic.Int64
	flushedPreviews atomic.Int64
	flushFailures   atomic.Int64
	replayed        atomic.Int64
	lastDropLog     atomic.Int64 // unix nanos
	failingSince    time.Time    // flusher only
	lastFailLog     time.Time    // flusher only
}

func newClicks(store Store, maxRows int, log *slog.Logger) *clicks {
	return &clicks{store: store, log: log, maxRows: maxRows, pending: newPending(), since: time.Now()}
}

// add counts one click or preview on link. Past the memory bound a click
// on a (link, day) not already pending is dropped, counted and logged;
// clicks on pending rows still count, since they cost no memory.
//
// tapped is the link whose slug was requested: link itself, or a link
// superseded by it (then the click is counted on link and forwarded by
// tapped).
func (a *clicks) add(link, tapped int64, preview bool) {
	now := time.Now()
	k := clickKey{link: link, day: int32(now.Unix() / 86400)}
	tap := tapKey{tapped: tapped, counted: link}
	if !a.pending.add(k, tap, now.UnixMilli(), preview, int64(a.maxRows), &a.queuedRows) {
		a.drop(preview)
	}
}

// drop records a click or preview that could not be kept, apart, since a
// dropped preview was still served as a preview and not as a redirect. At
// most one log line per logEvery.
func (a *clicks) drop(preview bool) {
	if preview {
		a.droppedPreviews.Add(1)
	} else {
		a.droppedClicks.Add(1)
	}
	now := time.Now().UnixNano()
	last := a.lastDropLog.Load()
	if now-last >= int64(logEvery) && a.lastDropLog.CompareAndSwap(last, now) {
		a.log.Error("clicks and previews dropped: too many pending while the database is unreachable",
			"dropped_clicks", a.droppedClicks.Load(), "dropped_previews", a.droppedPreviews.Load(),
			"max_pending_clicks", a.maxRows)
	}
}

// flush writes everything pending, stopping at the first failure. What an
// earlier flush left queued goes first, and pending is cut only once that
// is all written (see clicks), so an outage leaves one set of batches
// waiting, retried as they are, rather than a new set per tick.
func (a *clicks) flush(ctx context.Context) error {
	if err := a.send(ctx); err != nil {
		return err
	}
	a.cut()
	return a.send(ctx)
}

// send writes the queue in order, stopping at the first failure; the
// failed batch stays at the head to be sent again with the same ID.
func (a *clicks) send(ctx context.Context) error {
	for len(a.queue) > 0 {
		b := a.queue[0]
		bctx, cancel := context.WithTimeout(ctx, flushTimeout)
		applied, err := a.store.FlushClicks(bctx, b)
		cancel()
		if err != nil {
			a.flushFailures.Add(1)
			return err
		}
		if !applied {
			// An earlier attempt whose answer we lost had committed.
			a.replayed.Add(1)
		}
		var c, p int64
		for _, r := range b.Rows {
			c, p = c+r.Clicks, p+r.Previews
		}
		a.flushedClicks.Add(c)
		a.flushedPreviews.Add(p)
		a.queue[0] = db.ClickBatch{}
		a.queue = a.queue[1:]
		a.queuedRows.Add(-int64(len(b.Rows)))
	}
	return nil
}

// cut moves the pending map into queued batches. The map is swapped under
// the lock; sorting and batching happen outside it.
func (a *clicks) cut() {
	// [from, to] bounds when the taken clicks were counted: the window of
	// their link.clicked webhooks. Stripes are taken one after another, so
	// a click counted meanwhile in a stripe already taken belongs to the
	// next cut, whose window therefore starts when this take began.
	start := time.Now()
	taken, taps := a.pending.take(&a.queuedRows)
	from, to := a.since, time.Now()
	a.since = start
	if len(taken) == 0 {
		return
	}

	// Sorted, so each batch covers a range of link ids; the statement
	// itself locks rows in id order regardless.
	keys := slices.SortedFunc(maps.Keys(taken), func(x, y clickKey) int {
		return cmp.Or(cmp.Compare(x.link, y.link), cmp.Compare(x.day, y.day))
	})
	tapRows := tapRowsOf(taps)
	for i := 0; i < len(keys) || i < len(tapRows); i += batchRows {
		b := db.ClickBatch{ID: db.NewBatchID(), From: from, To: to}
		for _, k := range keys[min(i, len(keys)):min(i+batchRows, len(keys))] {
			t := taken[k]
			b.Rows = append(b.Rows, db.ClickRow{LinkID: k.link, Day: time.Unix(int64(k.day)*86400, 0).UTC(), Clicks: t.clicks, Previews: t.previews})
		}
		b.Taps = tapRows[min(i, len(tapRows)):min(i+batchRows, len(tapRows))]
		a.queue = append(a.queue, b)
	}
}

// tapRowsOf flattens the recorded taps for a batch.
func tapRowsOf(taps map[tapKey][]tapRun) []db.TapRow {
	var rows []db.TapRow
	for k, runs := range taps {
		for _, r := range runs {
			rows = append(rows, db.TapRow{Tapped: k.tapped, Counted: k.counted, At: time.UnixMilli(r.ms).UTC(), Clicks: r.n})
		}
	}
	return rows
}

// empty reports whether nothing is left to write.
func (a *clicks) empty() bool {
	_, _, empty := a.pending.totals()
	return empty && len(a.queue) == 0
}

// run flushes every interval until stop is closed, and prunes old batch
// IDs now and then. A flush under way when stop closes is finished, not
// abandoned; cancelling ctx abandons it.
func (a *clicks) run(ctx context.Context, stop <-chan struct{}, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var pruned time.Time
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		wrote := a.flushedClicks.Load() + a.flushedPreviews.Load()
		a.report(a.flush(ctx))
		wrote = a.flushedClicks.Load() + a.flushedPreviews.Load() - wrote
		// Only instances that write batch IDs prune them.
		if wrote > 0 && time.Since(pruned) >= pruneEvery && a.prune(ctx) == nil {
			pruned = time.Now()
		}
	}
}

// prune forgets old batch IDs, bounded by flushTimeout like a flush, so a
// hung connection cannot stall the flusher and with it all counting.
func (a *clicks) prune(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	_, err := a.store.PruneClickFlushes(ctx, time.Now().Add(-keepBatchIDs))
	return err
}

// report logs the start and the end of a run of failed flushes, and a
// reminder every logEvery in between, rather than a line per second.
func (a *clicks) report(err error) {
	now := time.Now()
	switch {
	case err == nil && !a.failingSince.IsZero():
		a.log.Info("click flush recovered", "failing_for", now.Sub(a.failingSince).Round(time.Millisecond))
		a.failingSince = time.Time{}
	case err != nil && (a.failingSince.IsZero() || now.Sub(a.lastFailLog) >= logEvery):
		if a.failingSince.IsZero() {
			a.failingSince = now
		}
		a.lastFailLog = now
		a.log.Warn("click flush failed; clicks wait in memory and are retried", "err", err,
			"pending_rows", a.pendingRows(),
			"dropped_clicks", a.droppedClicks.Load(), "dropped_previews", a.droppedPreviews.Load())
	}
}

// drain flushes until nothing is left, retrying failures until ctx ends;
// what is left then is lost, and said so.
func (a *clicks) drain(ctx context.Context) error {
	for {
		err := a.flush(ctx)
		if err == nil && a.empty() {
			return nil
		}
		select {
		case <-ctx.Done():
			c, p := a.unwritten()
			a.log.Error("clicks lost at shutdown: the database did not take them in time",
				"clicks", c, "previews", p, "err", err)
			return fmt.Errorf("redirects: %d clicks and %d previews not written: %w", c, p, errors.Join(err, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (a *clicks) pendingRows() int64 {
	return a.pending.rows.Load() + a.queuedRows.Load()
}

// unwritten returns the clicks and previews accepted but not yet written.
func (a *clicks) unwritten() (clicks, previews int64) {
	c, p, _ := a.pending.totals()
	return c - a.flushedClicks.Load(), p - a.flushedPreviews.Load()
}
