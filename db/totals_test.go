package db_test

import (
	"context"
	"testing"

	"github.com/shortlinks/shortlinks/db"
)

// trafficTotals reads the Shlink overview's totals and, beside them, the
// sum over every link they must equal.
func trafficTotals(t *testing.T, s *db.Store) (got, summed db.TrafficTotals) {
	t.Helper()
	got, err := s.TrafficTotals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Get(&summed, `SELECT COALESCE(SUM(click_count), 0) AS clicks,
		COALESCE(SUM(preview_count), 0) AS previews FROM link_counters`); err != nil {
		t.Fatal(err)
	}
	return got, summed
}

// The visits overview moves with each flush, counts a replayed batch once,
// and ignores rows of links that no longer exist, like the links do.
func TestTrafficTotalsMoveWithFlushesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 3)
	s.DB().MustExec(`DELETE FROM short_links WHERE id = $1`, ids[2])
	first := db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{
		{LinkID: ids[0], Day: monday, Clicks: 5, Previews: 1},
		{LinkID: ids[1], Day: tuesday, Clicks: 2, Previews: 3},
		{LinkID: ids[2], Day: tuesday, Clicks: 40, Previews: 40},
	}}
	second := db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: ids[1], Day: tuesday, Clicks: 4}}}
	steps := []struct {
		batch db.ClickBatch
		want  db.TrafficTotals
	}{
		{first, db.TrafficTotals{Clicks: 7, Previews: 4}},
		{first, db.TrafficTotals{Clicks: 7, Previews: 4}}, // the replay adds nothing
		{second, db.TrafficTotals{Clicks: 11, Previews: 4}},
	}
	for i, st := range steps {
		if _, err := s.FlushClicks(ctx, st.batch); err != nil {
			t.Fatal(err)
		}
		if got, summed := trafficTotals(t, s); got != st.want || summed != st.want {
			t.Errorf("after flush %d: totals %+v, links sum to %+v; want %+v", i+1, got, summed, st.want)
		}
	}
}
