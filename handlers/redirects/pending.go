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
	// tapRuns counts the tap-time runs of all stripes, which stay under
	// maxRows: past it, a click joins its pair's latest run in its stripe,
	// so a long outage blurs attribution times rather than growing memory.
	tapRuns atomic.Int64
	// first is the time (unix ms) of the oldest tap since the last take,
	// 0 when none: the age of the oldest unwritten tap in the metrics.
	first atomic.Int64
}

type stripe struct {
	mu       sync.Mutex
	m        map[clickKey]*tally
	taps     map[tapKey][]tapRun // the time of every click (not previews), for attribution
	counted  int64               // clicks accepted here, ever
	previews int64               // previews accepted here, ever
	_        [64]byte
}

func newPending() *pending {
	p := &pending{}
	for i := range p.stripes {
		p.stripes[i].m = make(map[clickKey]*tally)
		p.stripes[i].taps = make(map[tapKey][]tapRun)
	}
	return p
}

// add counts one click or preview on k. A new row is made only while
// rows+queued stays below maxRows; past that the click goes to a row k
// already has in any stripe, and is refused (false) if it has none.
// A click's time (ms) is kept under tap, one run per pair and millisecond.
func (p *pending) add(k clickKey, tap tapKey, ms int64, preview bool, maxRows int64, queued *atomic.Int64) bool {
	if p.first.Load() == 0 {
		p.first.CompareAndSwap(0, ms)
	}
	s := &p.stripes[rand.Uint32()%pendingStripes]
	s.mu.Lock()
	t := s.m[k]
	if t == nil {
		if !p.reserveRow(maxRows, queued) {
			s.mu.Unlock()
			return p.addExisting(k, tap, ms, preview, maxRows)
		}
		t = &tally{}
		s.m[k] = t
	}
	p.count(s, t, tap, ms, preview, maxRows)
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
func (p *pending) addExisting(k clickKey, tap tapKey, ms int64, preview bool, maxRows int64) bool {
	for i := range p.stripes {
		s := &p.stripes[i]
		s.mu.Lock()
		t := s.m[k]
		if t != nil {
			p.count(s, t, tap, ms, preview, maxRows)
		}
		s.mu.Unlock()
		if t != nil {
			return true
		}
	}
	return false
}

// count adds one to t and to the stripe's totals, and a click's time to
// the stripe's taps; s.mu must be held.
func (p *pending) count(s *stripe, t *tally, tap tapKey, ms int64, preview bool, maxRows int64) {
	if preview {
		t.previews++
		s.previews++
		return
	}
	t.clicks++
	s.counted++
	runs := s.taps[tap]
	if last := len(runs) - 1; last >= 0 && (runs[last].ms == ms || p.tapRuns.Load() >= maxRows) {
		runs[last].n++
		return
	}
	s.taps[tap] = append(runs, tapRun{ms: ms, n: 1})
	p.tapRuns.Add(1)
}

// take empties every stripe and returns their rows merged by (link, day),
// their tap times merged by pair and millisecond, and the time (unix ms)
// of the oldest tap taken (0 if unknown). Each stripe's rows move to
// queued as it is emptied, before the merge shrinks them, so the bound
// never sees fewer rows than memory holds.
func (p *pending) take(queued *atomic.Int64) (map[clickKey]*tally, map[tapKey][]tapRun, int64) {
	// Reset first: a tap counted during the take sets it again, so it is
	// never later than an unwritten tap (at worst a cut early).
	oldest := p.first.Swap(0)
	var merged map[clickKey]*tally
	taps := map[tapKey]map[int64]int64{}
	taken := 0
	for i := range p.stripes {
		s := &p.stripes[i]
		s.mu.Lock()
		m, n, sTaps := s.m, len(s.m), s.taps
		if n > 0 {
			s.m = make(map[clickKey]*tally, n)
			s.taps = make(map[tapKey][]tapRun, len(sTaps))
		}
		s.mu.Unlock()
		if n == 0 {
			continue // m and taps are still the stripe's: not ours to read
		}
		queued.Add(int64(n))
		p.rows.Add(-int64(n))
		taken += n
		for k, runs := range sTaps {
			byMs := taps[k]
			if byMs == nil {
				byMs = map[int64]int64{}
				taps[k] = byMs
			}
			for _, r := range runs {
				byMs[r.ms] += r.n
			}
			p.tapRuns.Add(-int64(len(runs)))
		}
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
	runs := make(map[tapKey][]tapRun, len(taps))
	for k, byMs := range taps {
		for ms, n := range byMs {
			runs[k] = append(runs[k], tapRun{ms: ms, n: n})
		}
	}
	return merged, runs, oldest
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
