package public

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fakeRedirectStats RedirectStats

// The redirect metric names are fixed now, before the click recorder that
// feeds them is wired.
func TestRedirectMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	registerRedirectMetrics(reg, nil)
	if n, _ := testutil.GatherAndCount(reg); n != 0 {
		t.Fatalf("a nil source registered %d metrics", n)
	}
	registerRedirectMetrics(reg, fakeRedirectStats{Redirects: 7, NotFound: 2, Gone: 1, Previews: 3, Limited: 5, Busy: 4,
		ClicksFlushed: 6, FlushFailures: 1, DroppedClicks: 1, DroppedPreviews: 2, PendingClicks: 4, FeedConnected: true,
		OldestUnwritten: 90 * time.Second, SplitBatches: 3, DeadLetters: 1, DeadClicks: 8})
	want := `
# HELP shortlinks_change_feed_connected 1 while link changes from other instances arrive (LISTEN/NOTIFY); at 0 cached links are trusted for 1 s only.
# TYPE shortlinks_change_feed_connected gauge
shortlinks_change_feed_connected 1
# HELP shortlinks_click_batches_split_total Click batches split in two after failing repeatedly (FLUSH_STATEMENT_TIMEOUT, a refused row).
# TYPE shortlinks_click_batches_split_total counter
shortlinks_click_batches_split_total 3
# HELP shortlinks_click_dead_letters_total Click batches of one link moved to the dead-letter table after failing repeatedly; kept for an admin to replay (health page, 'shortlinks dead-letters').
# TYPE shortlinks_click_dead_letters_total counter
shortlinks_click_dead_letters_total 1
# HELP shortlinks_click_flush_failures_total Click batch writes that failed.
# TYPE shortlinks_click_flush_failures_total counter
shortlinks_click_flush_failures_total 1
# HELP shortlinks_clicks_dead_lettered_total Clicks in the batches moved to the dead-letter table.
# TYPE shortlinks_clicks_dead_lettered_total counter
shortlinks_clicks_dead_lettered_total 8
# HELP shortlinks_clicks_dropped_total Clicks and previews not counted because too many were waiting to be written (MAX_PENDING_CLICKS).
# TYPE shortlinks_clicks_dropped_total counter
shortlinks_clicks_dropped_total 3
# HELP shortlinks_clicks_flushed_total Clicks written to the database.
# TYPE shortlinks_clicks_flushed_total counter
shortlinks_clicks_flushed_total 6
# HELP shortlinks_clicks_oldest_unwritten_seconds Age of the oldest click or preview counted in memory and not yet written (0 when none waits).
# TYPE shortlinks_clicks_oldest_unwritten_seconds gauge
shortlinks_clicks_oldest_unwritten_seconds 90
# HELP shortlinks_clicks_pending Clicks counted in memory and not yet written.
# TYPE shortlinks_clicks_pending gauge
shortlinks_clicks_pending 4
# HELP shortlinks_redirects_total Requests for short links by outcome: redirect, not_found, gone, preview, rate_limited (unknown-slug limit) or busy (no lookup slot). The redirect route has no per-request histogram; these counters are its metrics.
# TYPE shortlinks_redirects_total counter
shortlinks_redirects_total{outcome="busy"} 4
shortlinks_redirects_total{outcome="gone"} 1
shortlinks_redirects_total{outcome="not_found"} 2
shortlinks_redirects_total{outcome="preview"} 3
shortlinks_redirects_total{outcome="rate_limited"} 5
shortlinks_redirects_total{outcome="redirect"} 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func (f fakeRedirectStats) RedirectStats() RedirectStats { return RedirectStats(f) }
