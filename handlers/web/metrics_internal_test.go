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
