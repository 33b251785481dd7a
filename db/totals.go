package db

import (
	"context"
	"fmt"
	"hash/fnv"
)

// TrafficTotals are the clicks and previews of every link, active or not.
type TrafficTotals struct {
	Clicks   int64 `db:"clicks"`
	Previews int64 `db:"previews"`
}

// trafficShards is how many rows traffic_totals has (migration 00010).
const trafficShards = 16

// trafficShard is the traffic_totals row a batch adds to: a hash of its
// ID, so a replay picks the same row and concurrent flushes spread out.
func trafficShard(batchID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(batchID)) // never fails
	return int(h.Sum32() % trafficShards)
}

// TrafficTotals reads the running totals the click flush keeps in
// traffic_totals (one row per shard), so its cost does not grow with the
// number of links; the Shlink visits overview is its only caller.
func (s *Store) TrafficTotals(ctx context.Context) (TrafficTotals, error) {
	var t TrafficTotals
	err := s.db.GetContext(ctx, &t, `SELECT COALESCE(SUM(clicks), 0) AS clicks,
		COALESCE(SUM(previews), 0) AS previews FROM traffic_totals`)
	if err != nil {
		return TrafficTotals{}, fmt.Errorf("store: traffic totals: %w", classify(err))
	}
	return t, nil
}
