package db_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// newLinks creates n active links and returns their ids.
func newLinks(t *testing.T, s *db.Store, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range n {
		l, _, err := s.GetOrCreateLink(context.Background(), siteLink(fmt.Sprintf("https://shop%d.example.com/", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = l.ID
	}
	return ids
}

// counts returns a link's click_count and preview_count, and the sums of
// its daily rollup.
func counts(t *testing.T, s *db.Store, id int64) (clicks, previews, dailyClicks, dailyPreviews int64) {
	t.Helper()
	err := s.DB().QueryRow(`SELECT click_count, preview_count,
			(SELECT COALESCE(SUM(clicks), 0) FROM link_clicks_daily WHERE link_id = $1),
			(SELECT COALESCE(SUM(previews), 0) FROM link_clicks_daily WHERE link_id = $1)
		FROM link_counters WHERE link_id = $1`, id).Scan(&clicks, &previews, &dailyClicks, &dailyPreviews)
	if err != nil {
		t.Fatal(err)
	}
	return
}

var (
	monday  = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	tuesday = monday.AddDate(0, 0, 1)
)

// A flush whose answer was lost (the connection broke after the commit)
// is sent again with the same batch ID: the second send must add nothing.
func TestFlushClicksAppliesABatchOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 2)
	b := db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{
		{LinkID: ids[0], Day: monday, Clicks: 5, Previews: 1},
		{LinkID: ids[0], Day: tuesday, Clicks: 7},
		{LinkID: ids[1], Day: tuesday, Clicks: 2, Previews: 3},
	}}
	for attempt, want := range []bool{true, false, false} {
		applied, err := s.FlushClicks(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if applied != want {
			t.Errorf("attempt %d: applied = %v, want %v", attempt+1, applied, want)
		}
	}
	if c, p, dc, dp := counts(t, s, ids[0]); c != 12 || p != 1 || dc != 12 || dp != 1 {
		t.Errorf("link 0: clicks %d previews %d, daily %d/%d; want 12, 1, 12/1", c, p, dc, dp)
	}
	if c, p, dc, dp := counts(t, s, ids[1]); c != 2 || p != 3 || dc != 2 || dp != 3 {
		t.Errorf("link 1: clicks %d previews %d, daily %d/%d; want 2, 3, 2/3", c, p, dc, dp)
	}
	var days int
	s.DB().Get(&days, `SELECT COUNT(*) FROM link_clicks_daily WHERE link_id = $1`, ids[0])
	if days != 2 {
		t.Errorf("%d daily rows for link 0, want 2", days)
	}

	// A new batch adds to the same day's row.
	if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: ids[0], Day: tuesday, Clicks: 1}}}); err != nil {
		t.Fatal(err)
	}
	var tue int64
	s.DB().Get(&tue, `SELECT clicks FROM link_clicks_daily WHERE link_id = $1 AND day = $2`, ids[0], tuesday)
	if tue != 8 {
		t.Errorf("tuesday clicks %d, want 8", tue)
	}
}

// Clicks on a link deleted before the flush are skipped, not an error that
// would block the links flushed with it.
func TestFlushClicksSkipsDeletedLinks(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 2)
	s.DB().MustExec(`DELETE FROM short_links WHERE id = $1`, ids[1])
	_, err := s.FlushClicks(context.Background(), db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{
		{LinkID: ids[0], Day: monday, Clicks: 3},
		{LinkID: ids[1], Day: monday, Clicks: 4},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if c, _, dc, _ := counts(t, s, ids[0]); c != 3 || dc != 3 {
		t.Errorf("clicks %d, daily %d; want 3, 3", c, dc)
	}
	// link_clicks_daily has no foreign key (migration 00045): the flush
	// itself must leave out the deleted link's day.
	if days, _ := daysAndCounters(t, s, ids[1]); days != 0 {
		t.Errorf("%d daily rows for the deleted link, want 0", days)
	}
}

// A link that exists without its counters row (loaded with triggers off,
// as a data-only restore can, or its row deleted by hand) is not taken for
// a deleted one: the flush gives it the row, with the batch's counts and
// days, beside a link counted as usual.
func TestFlushGivesALinkWithoutCountersItsRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 2)
	s.DB().MustExec(`DELETE FROM link_counters WHERE link_id = $1`, ids[0])
	_, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{
		{LinkID: ids[0], Day: monday, Clicks: 3, Previews: 1},
		{LinkID: ids[1], Day: monday, Clicks: 2},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if c, p, dc, dp := counts(t, s, ids[0]); c != 3 || p != 1 || dc != 3 || dp != 1 {
		t.Errorf("link without counters: clicks %d previews %d, daily %d/%d; want 3, 1, 3/1", c, p, dc, dp)
	}
	if c, _, dc, _ := counts(t, s, ids[1]); c != 2 || dc != 2 {
		t.Errorf("the other link: clicks %d, daily %d; want 2 and 2", c, dc)
	}
	totals, err := s.TrafficTotals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if totals.Clicks != 5 || totals.Previews != 1 {
		t.Errorf("traffic totals %+v, want 5 clicks and 1 preview", totals)
	}
}

// A deleted link's days go with it, also when a flush adding a day holds
// the link's counters while the link is deleted: the delete waits for the
// flush and then removes the day the flush wrote (migration 00045's
// trigger, which replaced the daily rows' foreign key).
func TestADeletedLinkTakesItsDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	id := newLinks(t, s, 1)[0]
	if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: id, Day: monday, Clicks: 2}}}); err != nil {
		t.Fatal(err)
	}

	// What a flush does, held open: lock the counters, add a day.
	flush, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer flush.Rollback()
	flush.MustExec(`SELECT 1 FROM link_counters WHERE link_id = $1 FOR NO KEY UPDATE`, id)
	flush.MustExec(`INSERT INTO link_clicks_daily (link_id, day, clicks) VALUES ($1, $2, 5)`, id, tuesday)

	deleted := make(chan error, 1)
	go func() {
		_, err := s.DB().ExecContext(ctx, `DELETE FROM short_links WHERE id = $1`, id)
		deleted <- err
	}()
	// The delete must wait for the flush's lock on the counters row.
	waitForLockWaiter(t, s, "DELETE FROM short_links", "the link's delete")
	if err := flush.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	if days, counters := daysAndCounters(t, s, id); days != 0 || counters != 0 {
		t.Errorf("after the delete: %d daily rows, %d counters rows; want 0 and 0", days, counters)
	}
}

// The other way round: a real flush that meets a link's delete not yet
// committed waits for it, then writes neither counts nor a day for the
// link, and still counts the batch's other link.
func TestAFlushWaitingOnADeleteWritesNoDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 2)
	del, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer del.Rollback()
	del.MustExec(`DELETE FROM short_links WHERE id = $1`, ids[0])

	flushed := make(chan error, 1)
	go func() {
		_, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{
			{LinkID: ids[0], Day: monday, Clicks: 4},
			{LinkID: ids[1], Day: monday, Clicks: 2},
		}})
		flushed <- err
	}()
	waitForLockWaiter(t, s, "link_counters", "the flush")
	if err := del.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if days, counters := daysAndCounters(t, s, ids[0]); days != 0 || counters != 0 {
		t.Errorf("deleted link: %d daily rows, %d counters rows; want 0 and 0", days, counters)
	}
	if c, _, dc, _ := counts(t, s, ids[1]); c != 2 || dc != 2 {
		t.Errorf("the other link: clicks %d, daily %d; want 2 and 2", c, dc)
	}
}

// daysAndCounters counts a link's link_clicks_daily and link_counters rows.
func daysAndCounters(t *testing.T, s *db.Store, id int64) (days, counters int) {
	t.Helper()
	err := s.DB().QueryRow(`SELECT (SELECT count(*) FROM link_clicks_daily WHERE link_id = $1),
		(SELECT count(*) FROM link_counters WHERE link_id = $1)`, id).Scan(&days, &counters)
	if err != nil {
		t.Fatal(err)
	}
	return days, counters
}

// Instances flush overlapping links concurrently. Rows are locked in id
// order whatever order a batch lists them in (and the traffic_totals shard
// last), so no flush may fail with a deadlock, and every click must land,
// in the links and in the visits overview's totals.
func TestConcurrentFlushesDoNotDeadlock(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 20)
	const flushers, rounds = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, flushers*rounds)
	for range flushers {
		wg.Go(func() {
			for range rounds {
				rows := make([]db.ClickRow, len(ids))
				for i, p := range shuffled(len(ids)) {
					rows[i] = db.ClickRow{LinkID: ids[p], Day: monday, Clicks: 1}
				}
				if _, err := s.FlushClicks(context.Background(), db.ClickBatch{ID: db.NewBatchID(), Rows: rows}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range ids {
		if c, _, dc, _ := counts(t, s, id); c != flushers*rounds || dc != flushers*rounds {
			t.Fatalf("link %d: clicks %d, daily %d; want %d", id, c, dc, flushers*rounds)
		}
	}
	if got, summed := trafficTotals(t, s); got != summed || got.Clicks != flushers*rounds*int64(len(ids)) {
		t.Errorf("traffic totals %+v, links sum to %+v; want %d clicks", got, summed, flushers*rounds*len(ids))
	}
}

func shuffled(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		p[i], p[j.Int64()] = p[j.Int64()], p[i]
	}
	return p
}

func TestPruneClickFlushesKeepsRecentBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 1)
	old, recent := db.NewBatchID(), db.NewBatchID()
	for _, id := range []string{old, recent} {
		if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: id, Rows: []db.ClickRow{{LinkID: ids[0], Day: monday, Clicks: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	s.DB().MustExec(`UPDATE click_flushes SET flushed_at = now() - interval '2 days' WHERE batch_id = $1`, old)
	n, err := s.PruneClickFlushes(ctx, time.Now().Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	if applied, _ := s.FlushClicks(ctx, db.ClickBatch{ID: recent, Rows: []db.ClickRow{{LinkID: ids[0], Day: monday, Clicks: 1}}}); applied {
		t.Error("a recent batch was applied twice after pruning")
	}
}

// An instance whose cache has not yet heard that a link was merged keeps
// counting taps under the merged link's id; the flush moves them to the
// link it was merged into, as forwarded taps, so counts never split.
func TestFlushCountsAStaleMergedLinkOnItsSurvivor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 2)
	merged, survivor := ids[0], ids[1]
	before := db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: merged, Day: monday, Clicks: 3}},
		Taps: []db.TapRow{{Tapped: merged, Counted: merged, At: monday.Add(time.Hour), Clicks: 3}}}
	if _, err := s.FlushClicks(ctx, before); err != nil {
		t.Fatal(err)
	}
	s.DB().MustExec(`UPDATE short_links SET is_active = false, superseded_by = $2 WHERE id = $1`, merged, survivor)
	stale := db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{
		{LinkID: merged, Day: tuesday, Clicks: 2, Previews: 1},
		{LinkID: survivor, Day: tuesday, Clicks: 4},
	}, Taps: []db.TapRow{
		{Tapped: merged, Counted: merged, At: tuesday.Add(time.Hour), Clicks: 2},
		{Tapped: survivor, Counted: survivor, At: tuesday.Add(time.Hour), Clicks: 4},
	}}
	if _, err := s.FlushClicks(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if c, p, dc, dp := counts(t, s, merged); c != 3 || p != 0 || dc != 3 || dp != 0 {
		t.Errorf("merged link: %d clicks, %d previews (daily %d, %d); want frozen at 3, 0", c, p, dc, dp)
	}
	if c, p, dc, dp := counts(t, s, survivor); c != 6 || p != 1 || dc != 6 || dp != 1 {
		t.Errorf("survivor: %d clicks, %d previews (daily %d, %d); want 6, 1", c, p, dc, dp)
	}
	var forwarded int64
	if err := s.DB().Get(&forwarded, `SELECT forwarded_clicks FROM link_counters WHERE link_id = $1`, merged); err != nil {
		t.Fatal(err)
	}
	if forwarded != 2 {
		t.Errorf("merged link forwarded %d taps, want 2", forwarded)
	}
}
