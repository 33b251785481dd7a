package redirects

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Taps counted from many goroutines while batches are cut concurrently
// are each in exactly one cut, and the rows come back to zero.
func TestPendingCountsEveryTapOnceUnderConcurrentCuts(t *testing.T) {
	p := newPending()
	var queued atomic.Int64
	keys := []clickKey{{link: 1, day: 10}, {link: 2, day: 10}, {link: 1, day: 11}}
	const workers, each = 8, 5000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	cut := make(chan [2]int64)
	go func() {
		var n, tapped int64
		for {
			select {
			case <-stop:
				cut <- [2]int64{n, tapped}
				return
			default:
			}
			rows, taps, _ := p.take(&queued)
			for _, tl := range rows {
				n += tl.clicks + tl.previews
			}
			// Written: the flusher gives the rows back to the bound (without
			// this, a fast cutter fills the 1,000-row bound with cut rows and
			// later taps are refused, as they should be).
			queued.Add(-int64(len(rows)))
			for _, runs := range taps {
				for _, r := range runs {
					tapped += r.n
				}
			}
		}
	}()
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				k := keys[(w+i)%len(keys)]
				if !p.add(k, tapKey{tapped: k.link, counted: k.link}, int64(i), i%10 == 0, 1_000, &queued) {
					t.Error("a tap was refused below the bound")
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	got := <-cut
	total, tapped := got[0], got[1]
	rows, taps, _ := p.take(&queued)
	for _, tl := range rows {
		total += tl.clicks + tl.previews
	}
	for _, runs := range taps {
		for _, r := range runs {
			tapped += r.n
		}
	}
	if c, _, _ := p.totals(); tapped != c {
		t.Errorf("%d tap times cut, want one per click (%d)", tapped, c)
	}
	if total != workers*each {
		t.Errorf("%d taps cut, want %d", total, workers*each)
	}
	if c, pv, empty := p.totals(); c+pv != workers*each || !empty || p.rows.Load() != 0 || p.tapRuns.Load() != 0 {
		t.Errorf("totals %d+%d, empty %t, rows %d; want %d, empty, 0 rows", c, pv, empty, p.rows.Load(), workers*each)
	}
	if got := queued.Load(); got != int64(len(rows)) {
		t.Errorf("queued rows %d, want the last cut's %d", got, len(rows))
	}
}
