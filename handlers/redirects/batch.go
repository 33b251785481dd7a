package redirects

import (
	"sync"
	"time"
)

// lane batches the database lookups of cache misses. PostgreSQL spends most
// of a single-row query on the statement itself (parse, snapshot, protocol,
// a round trip), so misses that arrive while lookups are in flight wait and
// go together in the next statement (db.Store.RedirectTargets,
// slug = ANY($1)).
//
// The batching is natural: a miss that finds a statement slot free starts
// a statement at once with whatever is queued (often only itself), so an
// idle path adds no wait; when every slot is taken, misses queue and the
// next slot to free up takes up to maxBatch of them. Bounds: at most
// maxInFlight statements at once, maxBatch slugs each, maxQueue misses
// waiting, and a miss whose statement has not started within maxWait gives
// up with ErrBusy. With minGap, a slot also waits that long between the
// starts of its statements, which bounds statements per second as well.
//
// Each slug reaches a lane once however many requests want it: the
// service's singleflight groups sit in front.
type lane struct {
	lookup      func(batch []*lookup) // runs one statement and fills in each lookup
	maxInFlight int
	maxBatch    int
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
	if l.running < l.maxInFlight {
		l.running++
		go l.work()
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

// work runs statements until the queue is empty, then frees its slot.
func (l *lane) work() {
	for {
		start := time.Now()
		batch := l.take()
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
// or frees the caller's slot and returns nil when none is waiting.
func (l *lane) take() []*lookup {
	l.mu.Lock()
	defer l.mu.Unlock()
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
