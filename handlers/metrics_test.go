package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers"
)

// scrape reads /metrics with a Prometheus text parser.
func scrape(t *testing.T, app *testApp) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(app.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics from loopback: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not valid Prometheus text: %v", err)
	}
	return families
}

// value returns the value of the family's metric whose labels include
// labels, and whether there is one.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f, ok := families[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsCountRequestsAndLinks(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	before := scrape(t, app)
	if v, _ := value(before, "shortlinks_links_created_total", nil); v != 0 {
		t.Fatalf("links created before any: %v", v)
	}
	app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://a.example.com/"})
	app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://a.example.com/"})
	http.Get(app.URL + "/nosuchslughere")
	loseRace(t, app, "https://race.example.com/")

	after := scrape(t, app)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"shortlinks_links_created_total", nil, 1},
		{"shortlinks_get_or_create_conflicts_resolved_total", nil, 1},
		{"http_requests_total", map[string]string{"route": "/api/v1/links", "method": "POST", "status": "201"}, 1},
		{"http_requests_total", map[string]string{"route": "/api/v1/links", "method": "POST", "status": "200"}, 2},
		// The redirect route is counted by outcome, not per request.
		{"shortlinks_redirects_total", map[string]string{"outcome": "not_found"}, 1},
		{"http_request_duration_seconds", map[string]string{"route": "/api/v1/links", "method": "POST"}, 3},
	}
	for _, c := range checks {
		if got, ok := value(after, c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %t), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// Routes are templates: no raw path ever becomes a label.
	for _, m := range after["http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && l.GetValue() == "/:slug" {
				t.Errorf("the redirect route has a per-request series: %v", m)
			}
		}
		for _, l := range m.GetLabel() {
			if strings.Contains(l.GetValue(), "nosuchslug") {
				t.Errorf("raw path in label %s=%q", l.GetName(), l.GetValue())
			}
		}
	}
}

func TestMetricsDuplicateGauge(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.addLink(t, "https://a.example.com/", "site_preview")
	app.checkDuplicates(t)
	app.api(t, "GET", "/api/v1/health/duplicates", nil) // refreshes the gauges on demand
	families := scrape(t, app)
	if v, ok := value(families, "shortlinks_duplicate_groups", nil); !ok || v != 0 {
		t.Errorf("healthy: duplicate groups %v (present %t)", v, ok)
	}
	if v, _ := value(families, "shortlinks_unique_index_present", nil); v != 1 {
		t.Errorf("healthy: index present %v", v)
	}
	if v, _ := value(families, "shortlinks_links", map[string]string{"state": "active"}); v != 1 {
		t.Errorf("healthy: active links gauge %v, want 1", v)
	}
	app.Store.DB().MustExec(`DROP INDEX ` + db.UniqueIndexName)
	app.rawLink(t, "dup001", "https://a.example.com/")
	app.checkDuplicates(t)
	app.signedIn(t).get("/admin/health") // the dashboard refreshes it too
	families = scrape(t, app)
	if v, _ := value(families, "shortlinks_duplicate_groups", nil); v != 1 {
		t.Errorf("with a duplicate: gauge %v, want 1", v)
	}
	if v, _ := value(families, "shortlinks_unique_index_present", nil); v != 0 {
		t.Errorf("without the index: gauge %v, want 0", v)
	}
}

func TestMetricsAccessOverHTTP(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) { c.MetricsToken = "scrape-secret" })
	get := func(header, value string) int {
		req, _ := http.NewRequest("GET", app.URL+"/metrics", nil)
		if header != "" {
			req.Header.Set(header, value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("", ""); got != http.StatusOK {
		t.Errorf("loopback: %d", got)
	}
	// Through a proxy on this host the peer is loopback, but the client is not.
	if got := get("X-Forwarded-For", "203.0.113.9"); got != http.StatusNotFound {
		t.Errorf("forwarded for a remote client: %d, want 404", got)
	}
	if got := get("Authorization", "Bearer scrape-secret"); got != http.StatusOK {
		t.Errorf("with the token: %d", got)
	}
}
