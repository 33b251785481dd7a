package db

import (
	"context"
	"fmt"
)

// TrafficTotals are the clicks and previews of every link, active or not.
type TrafficTotals struct {
	Clicks   int64 `db:"clicks"`
	Previews int64 `db:"previews"`
}

// TrafficTotals sums the per-link counters. It reads the counter columns the
// click flush maintains, not the daily rows, so it is one pass over
// short_links; the Shlink visits overview is its only caller.
func (s *Store) TrafficTotals(ctx context.Context) (TrafficTotals, error) {
	var t TrafficTotals
	err := s.db.GetContext(ctx, &t, `SELECT COALESCE(SUM(click_count), 0) AS clicks,
		COALESCE(SUM(preview_count), 0) AS previews FROM short_links`)
	if err != nil {
		return TrafficTotals{}, fmt.Errorf("store: traffic totals: %w", classify(err))
	}
	return t, nil
}
