package handlers

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The access decision, with peers a real test server cannot produce.
func TestMetricsAllowed(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		remote  string
		headers map[string]string
		want    bool
	}{
		{"IPv4 loopback", Config{}, "127.0.0.1:5000", nil, true},
		{"other 127/8 address", Config{}, "127.8.9.10:5000", nil, true},
		{"IPv6 loopback", Config{}, "[::1]:5000", nil, true},
		{"IPv4-mapped loopback", Config{}, "[::ffff:127.0.0.1]:5000", nil, true},
		{"private network", Config{}, "10.0.0.7:5000", nil, false},
		{"public address", Config{}, "203.0.113.9:5000", nil, false},
		{"forged X-Forwarded-For", Config{}, "203.0.113.9:5000", map[string]string{"X-Forwarded-For": "127.0.0.1"}, false},
		{"forged X-Real-IP", Config{}, "203.0.113.9:5000", map[string]string{"X-Real-IP": "127.0.0.1"}, false},
		{"proxy on this host", Config{}, "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "203.0.113.9"}, false},
		{"proxy with Forwarded", Config{}, "127.0.0.1:5000", map[string]string{"Forwarded": "for=203.0.113.9"}, false},
		{"no port", Config{}, "127.0.0.1", nil, false},
		{"garbage", Config{}, "localhost:80", nil, false},
		{"public when configured", Config{MetricsPublic: true}, "203.0.113.9:5000", nil, true},
		{"token", Config{MetricsToken: "s3cret"}, "203.0.113.9:5000", map[string]string{"Authorization": "Bearer s3cret"}, true},
		{"token, any case of scheme", Config{MetricsToken: "s3cret"}, "203.0.113.9:5000", map[string]string{"Authorization": "bearer s3cret"}, true},
		{"wrong token", Config{MetricsToken: "s3cret"}, "203.0.113.9:5000", map[string]string{"Authorization": "Bearer s3cre"}, false},
		{"token without configuration", Config{}, "203.0.113.9:5000", map[string]string{"Authorization": "Bearer "}, false},
		{"loopback, proxy elsewhere", Config{Limits: Limits{TrustedProxies: cidrs("10.0.0.0/8")}}, "127.0.0.1:5000", nil, true},
		{"loopback, proxy on this host", Config{Limits: Limits{TrustedProxies: cidrs("127.0.0.1/32")}}, "127.0.0.1:5000", nil, false},
		{"loopback, IPv6 proxy on this host", Config{Limits: Limits{TrustedProxies: cidrs("::1/128")}}, "[::1]:5000", nil, false},
		{"token, proxy on this host", Config{MetricsToken: "s3cret", Limits: Limits{TrustedProxies: cidrs("127.0.0.0/8")}}, "127.0.0.1:5000", map[string]string{"Authorization": "Bearer s3cret"}, true},
	}
	for _, tc := range cases {
		h := &Handlers{cfg: tc.cfg}
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = tc.remote
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		if got := h.metricsAllowed(req); got != tc.want {
			t.Errorf("%s: allowed=%t, want %t", tc.name, got, tc.want)
		}
	}
}

func cidrs(ss ...string) []*net.IPNet {
	var out []*net.IPNet
	for _, s := range ss {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			panic(err)
		}
		out = append(out, n)
	}
	return out
}

type fakeRedirectStats RedirectStats

func (f fakeRedirectStats) RedirectStats() RedirectStats { return RedirectStats(f) }

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
		SuspectTaps: 9, SuspectTapsFlushed: 8, SuspectTapsDropped: 1, CacheMisses: 50, LookupStatements: 3})
	want := `
# HELP shortlinks_change_feed_connected 1 while link changes from other instances arrive (LISTEN/NOTIFY); at 0 cached links are trusted for 1 s only.
# TYPE shortlinks_change_feed_connected gauge
shortlinks_change_feed_connected 1
# HELP shortlinks_click_flush_failures_total Click batch writes that failed.
# TYPE shortlinks_click_flush_failures_total counter
shortlinks_click_flush_failures_total 1
# HELP shortlinks_clicks_dropped_total Clicks and previews not counted because too many were waiting to be written (MAX_PENDING_CLICKS).
# TYPE shortlinks_clicks_dropped_total counter
shortlinks_clicks_dropped_total 3
# HELP shortlinks_clicks_flushed_total Clicks written to the database.
# TYPE shortlinks_clicks_flushed_total counter
shortlinks_clicks_flushed_total 6
# HELP shortlinks_clicks_pending Clicks counted in memory and not yet written.
# TYPE shortlinks_clicks_pending gauge
shortlinks_clicks_pending 4
# HELP shortlinks_redirect_cache_misses_total Redirect lookups the cache could not answer fresh (each asked the database, or found it away).
# TYPE shortlinks_redirect_cache_misses_total counter
shortlinks_redirect_cache_misses_total 50
# HELP shortlinks_redirect_lookup_statements_total Database statements those misses took: misses arriving together share one (slug = ANY).
# TYPE shortlinks_redirect_lookup_statements_total counter
shortlinks_redirect_lookup_statements_total 3
# HELP shortlinks_redirects_total Requests for short links by outcome: redirect, not_found, gone, preview, suspect (a real link redirected for a client over the unknown-slug limit: not a click), rate_limited (unknown-slug limit) or busy (no lookup statement could start). The redirect route has no per-request histogram; these counters are its metrics.
# TYPE shortlinks_redirects_total counter
shortlinks_redirects_total{outcome="busy"} 4
shortlinks_redirects_total{outcome="gone"} 1
shortlinks_redirects_total{outcome="not_found"} 2
shortlinks_redirects_total{outcome="preview"} 3
shortlinks_redirects_total{outcome="rate_limited"} 5
shortlinks_redirects_total{outcome="redirect"} 7
shortlinks_redirects_total{outcome="suspect"} 10
# HELP shortlinks_suspect_taps_flushed_total Suspect taps written to the database (link_suspect_taps, shown on each link's page).
# TYPE shortlinks_suspect_taps_flushed_total counter
shortlinks_suspect_taps_flushed_total 8
# HELP shortlinks_suspect_taps_pending Suspect taps counted in memory and not yet written.
# TYPE shortlinks_suspect_taps_pending gauge
shortlinks_suspect_taps_pending 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// Arbitrary methods from clients share one label value.
func TestRequestMetricsBoundLabels(t *testing.T) {
	m := newMetrics(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, method := range []string{"GET", "BREW", "PROPFIND", "get"} {
		m.observe("/:slug", method, 200, 0)
	}
	m.observe("", "GET", 404, 0)
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/:slug", "OTHER", "200")); got != 3 {
		t.Errorf("unknown methods counted %v times as OTHER, want 3", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("unmatched", "GET", "404")); got != 1 {
		t.Errorf("requests without a route: %v, want 1 under \"unmatched\"", got)
	}
	if n := testutil.CollectAndCount(m.requests); n != 3 {
		t.Errorf("%d series, want 3", n)
	}
}
