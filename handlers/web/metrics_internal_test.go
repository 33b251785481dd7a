package web

import (
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Arbitrary methods from clients share one label value.
func TestRequestMetricsBoundLabels(t *testing.T) {
	m := NewMetrics(slog.New(slog.NewTextHandler(io.Discard, nil)))
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

// Health readings run at once (the monitor's tick, a dashboard, the API):
// one that started earlier and finishes last does not set the gauges back
// (TestMetricsDuplicateGauge failed once that way: a link's active count
// read 0 after a newer reading had recorded 1), and the order is the
// readings' own, not the checks' ids, which a restored backup turns back.
func TestHealthGaugesKeepTheLatestStartedReading(t *testing.T) {
	m := NewMetrics(slog.New(slog.NewTextHandler(io.Discard, nil)))
	older, newer := m.startHealth(), m.startHealth()
	m.recordHealth(HealthJSON{ActiveLinks: 1, UniqueIndexPresent: true, UniqueIndexValid: true}, newer)
	m.recordHealth(HealthJSON{ActiveLinks: 0, DuplicateGroups: 3}, older)
	if got := testutil.ToFloat64(m.links.WithLabelValues("active")); got != 1 {
		t.Errorf("active links gauge %v after an older reading finished last, want 1 (the newer reading's)", got)
	}
	if got := testutil.ToFloat64(m.duplicateGroups); got != 0 {
		t.Errorf("duplicate groups gauge %v, want 0", got)
	}
	// A later reading always shows, whatever it read (a restored database
	// has older check ids): here the index gone and fewer links.
	m.recordHealth(HealthJSON{ActiveLinks: 5}, m.startHealth())
	if got := testutil.ToFloat64(m.links.WithLabelValues("active")); got != 5 {
		t.Errorf("active links gauge %v, want 5 from the latest reading", got)
	}
	if got := testutil.ToFloat64(m.uniqueIndex); got != 0 {
		t.Errorf("index gauge %v, want 0 from the latest reading", got)
	}
}
