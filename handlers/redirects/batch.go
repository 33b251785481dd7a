package redirects

import (
	"cmp"
	"sync"
	"time"
)

// slowAfter is how long the oldest queued miss waits for its statement to
// start before a further statement slot opens, when one is free. A lookup
// statement takes about a millisecond. Cold redirects on a 1M-link copy,
// side by side (docs/benchmarks.md, eighth session): two slots always open
// made statements of 10 misses, a second slot on demand 19.4 and 1.10× the
// redirects a second, at about half the statements. (Those servers' flushes
// wrote nothing for the bulk-loaded links, ninth session: the figures
// compare lookups.)
const slowAfter = 5 * time.Millisecond

// lane batches the database lookups of cache misses. PostgreSQL spends most
// of a single-row query on the statement itself (parse, snapshot, protocol,
// a round trip), so misses that arrive while lookups are in flight wait and
// go together in the next statement (db.Store.RedirectTargets,
// slug = ANY($1)).
//
// The batching is natural: a miss that finds no statement running starts
// one at once with whatever is queued (often only itself), so an idle path
// adds no wait; while one runs, misses queue and the next statement takes
// up to maxBatch of them. One statement at a time makes the biggest
// batches, so a further slot (up to maxInFlight) opens only when it is
// needed: when a quarter of maxBatch misses are queued (opensAt), or when the oldest queued miss
// has waited slowAfter (the database is slow, or a statement is stuck; one
// timer per lane, armLocked, watches for that). A slot opened so closes
// again after a statement that leaves fewer than that queued,
// none of them waiting that long. Bounds: at most maxInFlight
// statements at once, maxBatch slugs each, maxQueue misses waiting, and a
// miss whose statement has not started within maxWait gives up with
// ErrBusy. With minGap, a slot also waits that long between the starts of
// its statements, which bounds statements per second as well.
//
// Each slug reaches a lane once however many requests want it: the
// service's singleflight groups sit in front.
type lane struct {
	lookup      func(batch []*lookup) // runs one statement and fills in each lookup
	maxInFlight int
	maxBatch    int
	slowAfter   time.Duration // a miss waiting this long opens a further slot (0: slowAfter)
	maxQueue    int
	maxWait     time.Duration
	minGap      time.Duration

	mu      sync.Mutex
	queue   []*lookup
	running int         // statement slots taken (goroutines running batches)
	opener  *time.Timer // opens a further slot once the queue's head has waited slowAfter
	armed   bool        // opener is set to fire
	// starting counts slots opened whose goroutine has not taken its
	// first batch yet: while one is, the opener opens no other.
	starting int
}

// lookup is one slug waiting in a lane. Everything but slug and expired is
// written by the lane's goroutine before done is closed.
type lookup struct {
	slug    string
	expired *entry    // the stale answer held, served again if the database is away
	queued  time.Time // when it joined the queue
	started bool      // taken into a statement; guarded by lane.mu
	gaveUp  bool      // the waiter left (ErrBusy); guarded by lane.mu
	done    chan struct{}
	result  *entry
	err     error
}

// do looks slug up in the lane's next statement and waits for the answer.
func (l *lane) do(slug string, expired *entry) (*entry, error) {
	lk := &lookup{slug: slug, expired: expired, queued: time.Now(), done: make(chan struct{})}
	l.mu.Lock()
	if len(l.queue) >= l.maxQueue {
		l.mu.Unlock()
		return nil, ErrBusy
	}
	l.queue = append(l.queue, lk)
	if l.running == 0 || (l.running < l.maxInFlight && len(l.queue) >= l.opensAt()) {
		l.startLocked()
	} else {
		l.armLocked()
	}
	l.mu.Unlock()

	t := time.NewTimer(l.maxWait)
	defer t.Stop()
	select {
	case <-lk.done:
		return lk.result, lk.err
	case <-t.C:
	}
	l.mu.Lock()
	if !lk.started {
		lk.gaveUp = true // the next take skips it
		l.mu.Unlock()
		return nil, ErrBusy
	}
	l.mu.Unlock()
	<-lk.done // its statement is running: bounded by lookupTimeout
	return lk.result, lk.err
}

// armLocked sees to it that a further slot opens, if one is free, once the
// oldest queued miss has waited slowAfter: at once if it already has, else
// by the lane's one timer. l.mu must be held.
func (l *lane) armLocked() {
	if l.armed || l.starting > 0 || len(l.queue) == 0 || l.running >= l.maxInFlight {
		return
	}
	wait := l.slow() - time.Since(l.queue[0].queued)
	if wait <= 0 {
		l.startLocked()
		return
	}
	l.armed = true
	if l.opener == nil {
		l.opener = time.AfterFunc(wait, l.fire)
	} else {
		l.opener.Reset(wait)
	}
}

// startLocked opens a statement slot; l.mu must be held.
func (l *lane) startLocked() {
	l.running++
	l.starting++
	go l.work()
}

// fire is the opener's function.
func (l *lane) fire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed = false
	l.armLocked()
}

func (l *lane) slow() time.Duration { return cmp.Or(l.slowAfter, slowAfter) }

// opensAt is how many queued misses open a further slot at once.
func (l *lane) opensAt() int { return max(l.maxBatch/4, 1) }

// work runs statements until the queue is empty, or, when another slot is
// running too, until fewer than opensAt misses are left and none has waited
// slowAfter; then it frees its slot.
func (l *lane) work() {
	for first := true; ; first = false {
		start := time.Now()
		batch := l.take(!first)
		if batch == nil {
			return
		}
		l.lookup(batch)
		for _, lk := range batch {
			close(lk.done)
		}
		if l.minGap > 0 {
			time.Sleep(l.minGap - time.Since(start))
		}
	}
}

// take removes up to maxBatch waiting lookups from the head of the queue,
// or frees the caller's slot and returns nil when none is waiting, or, if
// mayLeave, when another slot is running and fewer than opensAt are waiting,
// none of them for slowAfter yet (that slot takes them next).
func (l *lane) take(mayLeave bool) []*lookup {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !mayLeave {
		l.starting-- // a slot's first take
	}
	if mayLeave && l.running > 1 && len(l.queue) < l.opensAt() &&
		(len(l.queue) == 0 || time.Since(l.queue[0].queued) < l.slow()) {
		l.running--
		l.armLocked() // should the slot still running be slow
		return nil
	}
	var batch []*lookup
	n := 0
	for ; n < len(l.queue) && len(batch) < l.maxBatch; n++ {
		if lk := l.queue[n]; !lk.gaveUp {
			lk.started = true
			batch = append(batch, lk)
		}
	}
	clear(l.queue[:n])
	l.queue = l.queue[n:]
	if len(l.queue) == 0 {
		l.queue = nil // let the backing array go
	}
	if batch == nil {
		l.running--
	} else if !mayLeave {
		l.armLocked() // for what this batch left queued
	}
	return batch
}
