package redirects

import (
	"cmp"
	"sync"
	"time"
)

// slowAfter is how long a miss waits for its statement to start before it
// opens a further statement slot, when one is free. A lookup statement
// takes about a millisecond; cold redirects on a 1M-link copy, side by
// side (docs/benchmarks.md, eighth session): one slot 19 misses a
// statement, always two slots 10, and 5 % more redirects a second with one.
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
// needed: when openAt misses are queued, or when a miss has waited
// slowAfter without its statement starting (the database is slow, or a
// statement is stuck). A slot opened so closes again after a statement
// that leaves fewer than openAt misses queued. Bounds: at most maxInFlight
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
	openAt      int           // misses queued that open a further slot (0: maxBatch/4)
	slowAfter   time.Duration // a miss waiting this long opens a further slot (0: slowAfter)
	maxQueue    int
	maxWait     time.Duration
	minGap      time.Duration

	mu      sync.Mutex
	queue   []*lookup
	running int // statement slots taken (goroutines running batches)
}

// lookup is one slug waiting in a lane. Everything but slug and expired is
// written by the lane's goroutine before done is closed.
type lookup struct {
	slug    string
	expired *entry // the stale answer held, served again if the database is away
	started bool   // taken into a statement; guarded by lane.mu
	gaveUp  bool   // the waiter left (ErrBusy); guarded by lane.mu
	done    chan struct{}
	result  *entry
	err     error
}

// do looks slug up in the lane's next statement and waits for the answer.
func (l *lane) do(slug string, expired *entry) (*entry, error) {
	lk := &lookup{slug: slug, expired: expired, done: make(chan struct{})}
	l.mu.Lock()
	if len(l.queue) >= l.maxQueue {
		l.mu.Unlock()
		return nil, ErrBusy
	}
	l.queue = append(l.queue, lk)
	if l.running == 0 || (l.running < l.maxInFlight && len(l.queue) >= l.opensAt()) {
		l.running++
		go l.work()
	}
	l.mu.Unlock()

	deadline := time.Now().Add(l.maxWait)
	slow := cmp.Or(l.slowAfter, slowAfter)
	t := time.NewTimer(min(slow, l.maxWait))
	defer t.Stop()
	for {
		select {
		case <-lk.done:
			return lk.result, lk.err
		case <-t.C:
		}
		l.mu.Lock()
		if lk.started {
			l.mu.Unlock()
			<-lk.done // its statement is running: bounded by lookupTimeout
			return lk.result, lk.err
		}
		left := time.Until(deadline)
		if left <= 0 {
			lk.gaveUp = true // the next take skips it
			l.mu.Unlock()
			return nil, ErrBusy
		}
		// Every statement running has kept this miss waiting: another
		// slot, if one is free, takes the queue.
		if l.running < l.maxInFlight {
			l.running++
			go l.work()
		}
		l.mu.Unlock()
		t.Reset(min(slow, left))
	}
}

func (l *lane) opensAt() int {
	if l.openAt > 0 {
		return l.openAt
	}
	return max(l.maxBatch/4, 1)
}

// work runs statements until the queue is empty, or, when another slot is
// running too, until fewer than openAt misses are left; then it frees its
// slot.
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
// mayLeave, when another slot is running and fewer than openAt are waiting
// (that slot takes them next).
func (l *lane) take(mayLeave bool) []*lookup {
	l.mu.Lock()
	defer l.mu.Unlock()
	if mayLeave && l.running > 1 && len(l.queue) < l.opensAt() {
		l.running--
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
	}
	return batch
}
