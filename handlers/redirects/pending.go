package redirects

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// pendingStripes is how many separately locked maps hold the clicks not yet
// cut into batches. A click goes to a stripe picked at random (a per-thread
// generator, a few nanoseconds), so redirects running at once on different
// cores rarely share a lock, even all on one viral link: with one map they
// queued on its mutex and bounced its cache line between cores on every
// tap. A power of two.
const pendingStripes = 8

// pending is the clicks counted since the last cut. A (link, day) may hold
// one row in each stripe; rows counts them all, and the memory bound
// (MAX_PENDING_CLICKS) is on rows. Each click is in exactly one row, and a
// cut takes every stripe's map, so striping changes no count.
type pending struct {
	stripes [pendingStripes]stripe
	rows    atomic.Int64
}

type stripe struct {
	mu       sync.Mutex
	m        map[clickKey]*tally
	counted  int64 // clicks accepted here, ever
	previews int64 // previews accepted here, ever
	_        [64]byte
}

func newPending() *pending {
	p := &pending{}
	for i := range p.stripes {
		p.stripes[i].m = make(map[clickKey]*tally)
	}
	return p
}

// add counts one click or preview on k. A new row is made only while
// rows+queued stays below maxRows; past that the click goes to a row k
// already has in any stripe, and is refused (false) if it has none.
func (p *pending) add(k clickKey, preview bool, maxRows int64, queued *atomic.Int64) bool {
	s := &p.stripes[rand.Uint32()%pendingStripes]
	s.mu.Lock()
	t := s.m[k]
	if t == nil {
		if !p.reserveRow(maxRows, queued) {
			s.mu.Unlock()
			return p.addExisting(k, preview)
		}
		t = &tally{}
		s.m[k] = t
	}
	s.count(t, preview)
	s.mu.Unlock()
	return true
}

// reserveRow takes one row of the bound, exactly even when concurrent.
func (p *pending) reserveRow(maxRows int64, queued *atomic.Int64) bool {
	for {
		r := p.rows.Load()
		if r+queued.Load() >= maxRows {
			return false
		}
		if p.rows.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// addExisting counts on a row k already has, in whichever stripe.
func (p *pending) addExisting(k clickKey, preview bool) bool {
	for i := range p.stripes {
		s := &p.stripes[i]
		s.mu.Lock()
		t := s.m[k]
		if t != nil {
			s.count(t, preview)
		}
		s.mu.Unlock()
		if t != nil {
			return true
		}
	}
	return false
}

// count adds one to t and to the stripe's totals; s.mu must be held.
func (s *stripe) count(t *tally, preview bool) {
	if preview {
		t.previews++
		s.previews++
	} else {
		t.clicks++
		s.counted++
	}
}

// take empties every stripe and returns their rows merged by (link, day).
// Each stripe's rows move to queued as it is emptied, before the merge
// shrinks them, so the bound never sees fewer rows than memory holds.
func (p *pending) take(queued *atomic.Int64) map[clickKey]*tally {
	var merged map[clickKey]*tally
	taken := 0
	for i := range p.stripes {
		s := &p.stripes[i]
		s.mu.Lock()
		m, n := s.m, len(s.m)
		if n > 0 {
			s.m = make(map[clickKey]*tally, n)
		}
		s.mu.Unlock()
		if n == 0 {
			continue // m is still the stripe's: not ours to read
		}
		queued.Add(int64(n))
		p.rows.Add(-int64(n))
		taken += n
		if merged == nil {
			merged = m
			continue
		}
		for k, t := range m {
			if into := merged[k]; into != nil {
				into.clicks += t.clicks
				into.previews += t.previews
			} else {
				merged[k] = t
			}
		}
	}
	queued.Add(int64(len(merged) - taken))
	return merged
}

// totals returns the clicks and previews accepted, ever, and whether no
// row is pending.
func (p *pending) totals() (counted, previews int64, empty bool) {
	empty = true
	for i := range p.stripes {
		s := &p.stripes[i]
		s.mu.Lock()
		counted, previews = counted+s.counted, previews+s.previews
		empty = empty && len(s.m) == 0
		s.mu.Unlock()
	}
	return counted, previews, empty
}
