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

	"github.com/lib/pq"

	"github.com/shortlinks/shortlinks/db"
)

// Bounds of one flush.
const (
	// batchRows caps the rows of one FlushClicks statement, so a backlog
	// after an outage goes out in statements of sane size.
	batchRows = 5000
	// splitAfter is how many times in a row a batch may fail (timing out,
	// or refused) before it is split in two halves by link, each with a
	// new ID; a batch of one link that still fails that often is moved to
	// the dead-letter table. Halving bounds the splits at log2(batchRows)
	// levels, so one bad row or an oversized batch is isolated within a
	// few dozen flushes while everything else is written.
	splitAfter = 2
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
// Writing: every flush cuts what is pending into batches with fresh IDs
// (unless the database was unreachable last time, see below) and sends
// every queued batch, oldest first. A failed batch stays queued with its
// ID and is sent again, unchanged, next time: if the failed attempt had in
// fact committed, the database recognises the ID and adds nothing (see
// db.Store.FlushClicks). A batch that fails splitAfter times in a row
// (timing out, or refused) is split: its ID is abandoned first
// (db.Store.AbandonClickBatch, which also tells whether it had committed
// after all), then its links are halved into two new batches. A batch of
// one link that keeps failing goes to the dead-letter table with its
// counts and the reason (db.Store.DeadLetterClicks), where the health page
// shows it and an admin replays it. So a stuck batch never holds back the
// taps after it, and nothing is dropped silently.
//
// While the database cannot be reached at all (a connection error, not a
// timeout), a flush stops at the first failure and cuts nothing: clicks
// stay in pending, merged by (link, day), so memory stays bounded by
// distinct rows however long the outage (cutting every tick would queue a
// new row per active (link, day) per tick, and add would soon drop clicks).
type clicks struct {
	store   Store
	log     *slog.Logger
	maxRows int // MAX_PENDING_CLICKS: (link, day) rows in memory (see pending)
	// flushTimeout bounds one flush transaction from this side
	// (Options.FlushTimeout), so a hung connection cannot stall counting;
	// the batch is simply retried (its ID makes that safe). Each statement
	// is bounded by the database too (db.Options.FlushStatementTimeout).
	flushTimeout time.Duration

	// pending holds the counts and tap times not yet cut (pending.go):
	// striped, so concurrent taps do not queue on one lock.
	pending *pending
	// since is when the rows now pending started to gather: no click in
	// them is older. The flusher alone reads and sets it (cut).
	since time.Time

	// queue is touched only by whoever flushes (the flusher goroutine,
	// then Close once that has stopped); queuedRows mirrors its size for
	// the bound checked by add, and queueOldest (unix ms, 0 when empty)
	// the time of its oldest tap, for the metrics.
	queue       []*queuedBatch
	queuedRows  atomic.Int64
	queueOldest atomic.Int64
	// unreachable is whether the last flush met a database it could not
	// reach (flusher only): then the next one cuts nothing.
	unreachable bool

	droppedClicks   atomic.Int64
	droppedPreviews atomic.Int64
	flushedClicks   atomic.Int64
	flushedPreviews atomic.Int64
	flushFailures   atomic.Int64
	replayed        atomic.Int64
	splits          atomic.Int64 // batches split after failing splitAfter times
	deadLetters     atomic.Int64 // batches moved to the dead-letter table
	deadClicks      atomic.Int64 // their clicks
	deadPreviews    atomic.Int64 // their previews
	lastDropLog     atomic.Int64 // unix nanos
	failingSince    time.Time    // flusher only
	lastFailLog     time.Time    // flusher only
}

func newClicks(store Store, maxRows int, flushTimeout time.Duration, log *slog.Logger) *clicks {
	return &clicks{store: store, log: log, maxRows: maxRows, flushTimeout: flushTimeout, pending: newPending(), since: time.Now()}
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
	// A tap's time is kept to the millisecond, so a link's taps merge into
	// one run per millisecond (memory, and the flush's tap rows, under a
	// hot link). The flush credits a tap to the latest send at or before
	// it, and a tap's time is rounded down: one in the same millisecond as
	// a send, after it, counts for the send before (no recipient taps a
	// message that fast), and one just before a send never counts for it.
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

// queuedBatch is a batch cut and not yet written, with how its attempts
// went.
type queuedBatch struct {
	db.ClickBatch
	oldest   int64 // unix ms: no tap in it is older
	failures int   // attempts in a row that failed
	lastErr  error
}

// flush cuts what is pending into batches (unless the database was
// unreachable last time) and sends the queue. It returns the first error.
func (a *clicks) flush(ctx context.Context) error {
	if !a.unreachable {
		a.cut()
	}
	err := a.send(ctx)
	a.unreachable = err != nil && !splittable(err)
	return err
}

// splittable reports whether a failure is the batch's own (a statement
// timing out, a value refused) rather than the database being out of
// reach: only the former makes a batch split.
func splittable(err error) bool {
	return db.TimedOut(err) || !errors.Is(err, db.ErrUnavailable)
}

// send writes the queue in order. A batch that fails stays queued (split
// or dead-lettered after splitAfter failures) and the next one is tried,
// unless the database is out of reach: then the rest waits for next time.
func (a *clicks) send(ctx context.Context) error {
	var first error
	next := make([]*queuedBatch, 0, len(a.queue))
	defer func() {
		a.queue = next
		a.markOldest()
	}()
	for i, q := range a.queue {
		if i > 0 && first != nil && !splittable(first) {
			next = append(next, a.queue[i:]...)
			break
		}
		bctx, cancel := context.WithTimeout(ctx, a.flushTimeout)
		applied, err := a.store.FlushClicks(bctx, q.ClickBatch)
		cancel()
		if err == nil {
			a.written(q, applied)
			continue
		}
		a.flushFailures.Add(1)
		first = cmp.Or(first, err)
		if !splittable(err) {
			next = append(next, q)
			continue // stops the loop above
		}
		q.failures++
		q.lastErr = err
		if q.failures < splitAfter {
			next = append(next, q)
			continue
		}
		halves, rerr := a.isolate(ctx, q)
		if rerr != nil {
			first = cmp.Or(first, rerr)
			next = append(next, q)
			continue
		}
		next = append(next, halves...)
	}
	return first
}

// written records q as in the database; applied is false when an earlier
// attempt had committed it.
func (a *clicks) written(q *queuedBatch, applied bool) {
	if !applied {
		a.replayed.Add(1)
	}
	c, p := batchTotals(q.ClickBatch)
	a.flushedClicks.Add(c)
	a.flushedPreviews.Add(p)
	a.queuedRows.Add(-int64(len(q.Rows)))
}

// isolate deals with a batch that failed splitAfter times: a batch of one
// link goes to the dead-letter table; a larger one is split by link into
// two halves with new IDs, once its own ID is abandoned so it can never be
// applied as well. Either way, if the batch had committed after all, it is
// recorded as written and nothing replaces it.
func (a *clicks) isolate(ctx context.Context, q *queuedBatch) ([]*queuedBatch, error) {
	ctx, cancel := context.WithTimeout(ctx, a.flushTimeout)
	defer cancel()
	links := batchLinks(q.ClickBatch)
	if len(links) <= 1 {
		letter := q.ClickBatch
		letter.ID = db.NewBatchID()
		applied, err := a.store.DeadLetterClicks(ctx, q.ID, letter, failureReason(q.lastErr), q.failures)
		if err != nil {
			return nil, err
		}
		if applied {
			a.written(q, false)
			return nil, nil
		}
		c, p := batchTotals(q.ClickBatch)
		a.deadClicks.Add(c)
		a.deadPreviews.Add(p)
		a.queuedRows.Add(-int64(len(q.Rows)))
		a.deadLetters.Add(1) // last: a reader who sees the letter sees its clicks
		a.log.Error("click batch moved to the dead-letter table after repeated failures; replay it from the health page",
			"link_id", links, "clicks", c, "previews", p, "attempts", q.failures, "err", q.lastErr)
		return nil, nil
	}
	applied, err := a.store.AbandonClickBatch(ctx, q.ID)
	if err != nil {
		return nil, err
	}
	if applied {
		a.written(q, false)
		return nil, nil
	}
	a.splits.Add(1)
	pivot := links[len(links)/2] // the first half: links below it
	lo, hi := q.split(pivot)
	return []*queuedBatch{lo, hi}, nil
}

// split divides q by link into the links below pivot and the others, each
// a new batch (new ID, no failures yet) over the same window. A tap goes
// with the link that counts it, as its clicks are in that link's rows.
func (q *queuedBatch) split(pivot int64) (lo, hi *queuedBatch) {
	lo = &queuedBatch{ClickBatch: db.ClickBatch{ID: db.NewBatchID(), From: q.From, To: q.To}, oldest: q.oldest}
	hi = &queuedBatch{ClickBatch: db.ClickBatch{ID: db.NewBatchID(), From: q.From, To: q.To}, oldest: q.oldest}
	for _, r := range q.Rows {
		if r.LinkID < pivot {
			lo.Rows = append(lo.Rows, r)
		} else {
			hi.Rows = append(hi.Rows, r)
		}
	}
	for _, t := range q.Taps {
		if t.Counted < pivot {
			lo.Taps = append(lo.Taps, t)
		} else {
			hi.Taps = append(hi.Taps, t)
		}
	}
	return lo, hi
}

// batchLinks returns the distinct links b counts on, sorted.
func batchLinks(b db.ClickBatch) []int64 {
	set := map[int64]bool{}
	for _, r := range b.Rows {
		set[r.LinkID] = true
	}
	for _, t := range b.Taps {
		set[t.Counted] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// batchTotals returns the clicks and previews of b.
func batchTotals(b db.ClickBatch) (clicks, previews int64) {
	for _, r := range b.Rows {
		clicks, previews = clicks+r.Clicks, previews+r.Previews
	}
	return clicks, previews
}

// failureReason is what the health page shows for a dead letter: what
// kind of failure, never the database's own message (the log has it).
func failureReason(err error) string {
	var pqErr *pq.Error
	switch {
	case db.TimedOut(err):
		return "timed out (FLUSH_STATEMENT_TIMEOUT) on every attempt"
	case errors.As(err, &pqErr):
		return "refused by the database (SQLSTATE " + string(pqErr.Code) + ")"
	}
	return "failed"
}

// markOldest publishes the time of the queue's oldest tap.
func (a *clicks) markOldest() {
	var oldest int64
	for _, q := range a.queue {
		if oldest == 0 || q.oldest < oldest {
			oldest = q.oldest
		}
	}
	a.queueOldest.Store(oldest)
}

// oldestUnwritten is the time of the oldest tap not yet written (pending or
// queued), zero when there is none.
func (a *clicks) oldestUnwritten() time.Time {
	oldest := a.queueOldest.Load()
	if p := a.pending.first.Load(); p != 0 && (oldest == 0 || p < oldest) {
		oldest = p
	}
	if oldest == 0 {
		return time.Time{}
	}
	return time.UnixMilli(oldest)
}

// cut moves the pending map into queued batches. The map is swapped under
// the lock; sorting and batching happen outside it.
func (a *clicks) cut() {
	// [from, to] bounds when the taken clicks were counted: the window of
	// their link.clicked webhooks. Stripes are taken one after another, so
	// a click counted meanwhile in a stripe already taken belongs to the
	// next cut, whose window therefore starts when this take began.
	start := time.Now()
	taken, taps, oldest := a.pending.take(&a.queuedRows)
	from, to := a.since, time.Now()
	a.since = start
	if len(taken) == 0 {
		return
	}
	if oldest == 0 {
		oldest = from.UnixMilli()
	}

	// Sorted, so each batch covers a range of link ids (and a split halves
	// a range); the statements lock rows in id order regardless.
	keys := slices.SortedFunc(maps.Keys(taken), func(x, y clickKey) int {
		return cmp.Or(cmp.Compare(x.link, y.link), cmp.Compare(x.day, y.day))
	})
	tapRows := tapRowsOf(taps)
	slices.SortFunc(tapRows, func(x, y db.TapRow) int { return cmp.Compare(x.Counted, y.Counted) })
	for i := 0; i < len(keys); {
		b := &queuedBatch{ClickBatch: db.ClickBatch{ID: db.NewBatchID(), From: from, To: to}, oldest: oldest}
		end := min(i+batchRows, len(keys))
		// A link's days stay in one batch, and its taps go with it.
		for end < len(keys) && keys[end].link == keys[end-1].link {
			end++
		}
		for _, k := range keys[i:end] {
			t := taken[k]
			b.Rows = append(b.Rows, db.ClickRow{LinkID: k.link, Day: time.Unix(int64(k.day)*86400, 0).UTC(), Clicks: t.clicks, Previews: t.previews})
		}
		last := keys[end-1].link
		if end == len(keys) {
			last = 1<<63 - 1 // every tap left
		}
		n := 0
		for n < len(tapRows) && tapRows[n].Counted <= last {
			n++
		}
		b.Taps, tapRows = tapRows[:n:n], tapRows[n:]
		a.queue = append(a.queue, b)
		i = end
	}
	a.markOldest()
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
	flushLoop(stop, interval, func() bool {
		wrote := a.flushedClicks.Load() + a.flushedPreviews.Load()
		a.report(a.flush(ctx))
		return a.flushedClicks.Load()+a.flushedPreviews.Load() > wrote
	}, func() error { return a.prune(ctx) })
}

// flushLoop is the loop of both flushers (clicks, suspect taps): flush
// every interval until stop is closed and, after a flush that wrote
// something, prune old batch IDs at most every pruneEvery (only instances
// that write batch IDs prune them).
func flushLoop(stop <-chan struct{}, interval time.Duration, flush func() (wrote bool), prune func() error) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var pruned time.Time
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if flush() && time.Since(pruned) >= pruneEvery && prune() == nil {
			pruned = time.Now()
		}
	}
}

// prune forgets old batch IDs, bounded like a flush, so a
// hung connection cannot stall the flusher and with it all counting.
func (a *clicks) prune(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.flushTimeout)
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

// unwritten returns the clicks and previews accepted but neither written
// nor kept in the dead-letter table.
func (a *clicks) unwritten() (clicks, previews int64) {
	c, p, _ := a.pending.totals()
	return c - a.flushedClicks.Load() - a.deadClicks.Load(), p - a.flushedPreviews.Load() - a.deadPreviews.Load()
}
