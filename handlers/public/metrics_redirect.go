package public

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortlinks/shortlinks/handlers/redirects"
)

// RedirectStats are the redirect path's running totals since start, as
// counted by handlers/redirects (see redirects.Stats for each figure).
type RedirectStats = redirects.Stats

// RedirectStatsSource is whatever counts redirects and clicks (the redirect
// path's click recorder); /metrics reads it at every scrape.
type RedirectStatsSource interface {
	RedirectStats() RedirectStats
}

// registerRedirectMetrics exposes src's figures under stable metric names.
// A nil src registers nothing, so the names appear once a source is wired.
func registerRedirectMetrics(reg prometheus.Registerer, src RedirectStatsSource) {
	if src == nil {
		return
	}
	reg.MustRegister(newRedirectCollector(src))
}

// redirectCollector reads the source once per scrape, so every redirect
// figure of a scrape comes from the same moment.
type redirectCollector struct {
	src                                            RedirectStatsSource
	redirects, flushed, failures, dropped, pending *prometheus.Desc
	feed                                           *prometheus.Desc
	oldest, splits, deadLetters, deadClicks        *prometheus.Desc
}

func newRedirectCollector(src RedirectStatsSource) *redirectCollector {
	return &redirectCollector{
		src: src,
		redirects: prometheus.NewDesc("shortlinks_redirects_total",
			"Requests for short links by outcome: redirect, not_found, gone, preview, rate_limited (unknown-slug limit) or busy (no lookup slot). The redirect route has no per-request histogram; these counters are its metrics.", []string{"outcome"}, nil),
		flushed: prometheus.NewDesc("shortlinks_clicks_flushed_total",
			"Clicks written to the database.", nil, nil),
		failures: prometheus.NewDesc("shortlinks_click_flush_failures_total",
			"Click batch writes that failed.", nil, nil),
		dropped: prometheus.NewDesc("shortlinks_clicks_dropped_total",
			"Clicks and previews not counted because too many were waiting to be written (MAX_PENDING_CLICKS).", nil, nil),
		pending: prometheus.NewDesc("shortlinks_clicks_pending",
			"Clicks counted in memory and not yet written.", nil, nil),
		oldest: prometheus.NewDesc("shortlinks_clicks_oldest_unwritten_seconds",
			"Age of the oldest click or preview counted in memory and not yet written (0 when none waits).", nil, nil),
		splits: prometheus.NewDesc("shortlinks_click_batches_split_total",
			"Click batches split in two after failing repeatedly (FLUSH_STATEMENT_TIMEOUT, a refused row).", nil, nil),
		deadLetters: prometheus.NewDesc("shortlinks_click_dead_letters_total",
			"Click batches of one link moved to the dead-letter table after failing repeatedly; kept for an admin to replay (health page, 'shortlinks dead-letters').", nil, nil),
		deadClicks: prometheus.NewDesc("shortlinks_clicks_dead_lettered_total",
			"Clicks in the batches moved to the dead-letter table.", nil, nil),
		feed: prometheus.NewDesc("shortlinks_change_feed_connected",
			"1 while link changes from other instances arrive (LISTEN/NOTIFY); at 0 cached links are trusted for 1 s only.", nil, nil),
	}
}

func (r *redirectCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{r.redirects, r.flushed, r.failures, r.dropped, r.pending, r.feed,
		r.oldest, r.splits, r.deadLetters, r.deadClicks} {
		ch <- d
	}
}

func (r *redirectCollector) Collect(ch chan<- prometheus.Metric) {
	s := r.src.RedirectStats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(r.redirects, s.Redirects, "redirect")
	counter(r.redirects, s.NotFound, "not_found")
	counter(r.redirects, s.Gone, "gone")
	counter(r.redirects, s.Previews, "preview")
	counter(r.redirects, s.Limited, "rate_limited")
	counter(r.redirects, s.Busy, "busy")
	counter(r.flushed, s.ClicksFlushed)
	counter(r.failures, s.FlushFailures)
	counter(r.dropped, s.DroppedClicks+s.DroppedPreviews)
	ch <- prometheus.MustNewConstMetric(r.pending, prometheus.GaugeValue, float64(s.PendingClicks))
	ch <- prometheus.MustNewConstMetric(r.oldest, prometheus.GaugeValue, s.OldestUnwritten.Seconds())
	counter(r.splits, s.SplitBatches)
	counter(r.deadLetters, s.DeadLetters)
	counter(r.deadClicks, s.DeadClicks)
	connected := 0.0
	if s.FeedConnected {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(r.feed, prometheus.GaugeValue, connected)
}
