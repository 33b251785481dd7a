package db_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// BenchmarkFlushColdClicks times what a cold day costs the click flush:
// FLUSH_BENCH_LINKS links (default 200,000), and batches of 5,000
// (handlers/redirects' batch size) links picked uniformly at random, one
// click and one tap each, so nearly every click is its link's first of the
// day (a new link_clicks_daily row) and lands on a counters row of its own.
// It reports the flush's time per click; run it on a quiet machine:
//
//	go run ./cmd/withpg -- go test ./db -run '^$' -bench FlushColdClicks -benchtime 30x
func BenchmarkFlushColdClicks(b *testing.B) {
	const batch = 5000
	links := envInt("FLUSH_BENCH_LINKS", 200_000)
	s := newTestStore(b, db.Options{})
	ctx := context.Background()
	start := time.Now()
	// Each link with the counters row its insert trigger makes.
	s.DB().MustExecContext(ctx, `INSERT INTO short_links (slug, destination_url)
		SELECT 'c' || i, 'https://shop' || (i % 997) || '.example.com/products/' || i || '?utm_source=sms'
		FROM generate_series(1, $1::int) i`, links)
	s.DB().MustExecContext(ctx, `VACUUM ANALYZE`)
	var ids []int64
	if err := s.DB().SelectContext(ctx, &ids, `SELECT id FROM short_links ORDER BY id`); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d links in %s", len(ids), time.Since(start).Round(time.Second))
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	day := now.Truncate(24 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		// A day of its own per batch, so no batch finds the day rows of an
		// earlier one (it would be a warmer flush).
		day = day.AddDate(0, 0, -1)
		cb := db.ClickBatch{ID: db.NewBatchID(), Rows: make([]db.ClickRow, 0, batch), Taps: make([]db.TapRow, 0, batch)}
		picked := make(map[int64]bool, batch)
		for len(picked) < batch {
			id := ids[rng.IntN(len(ids))]
			if picked[id] {
				continue
			}
			picked[id] = true
			cb.Rows = append(cb.Rows, db.ClickRow{LinkID: id, Day: day, Clicks: 1})
			cb.Taps = append(cb.Taps, db.TapRow{Tapped: id, Counted: id, At: now, Clicks: 1})
		}
		if applied, err := s.FlushClicks(ctx, cb); err != nil || !applied {
			b.Fatalf("flush: applied %v, %v", applied, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/click")
}
