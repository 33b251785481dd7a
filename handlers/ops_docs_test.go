package handlers_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Every metric the alerting rules and the dashboard in docs/ops read is one
// /metrics exposes, so a renamed metric fails here and not as an alert that
// silently never fires.
func TestOpsDocsNameExposedMetrics(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	if status, body := app.api(t, "POST", "/api/v1/webhooks/endpoints", map[string]any{"url": "https://hooks.example.com/"}); status != 201 {
		t.Fatalf("add an endpoint: %d %v", status, body)
	}
	eps, err := app.Store.WebhookEndpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The duplicate gauges appear once the first check (run at start) ends.
	// The webhook gauges are what the monitor records every 30 s
	// (ops/monitor.go), recorded here at each try: the monitor's first tick,
	// which read the endpoints before the POST, may land after a recording.
	var families map[string]*dto.MetricFamily
	pollUntil(30*time.Second, func() bool {
		app.RT.Base.Metrics.RecordWebhooks(eps, time.Now())
		families = scrape(t, app)
		return families["shortlinks_links"] != nil && families["shortlinks_webhook_endpoint_suspended"] != nil
	})
	name := regexp.MustCompile(`\b(?:shortlinks|http)_[a-z_]+\b`)
	for _, doc := range []string{"../docs/ops/alerts.yml", "../docs/ops/alerts_test.yml", "../docs/ops/grafana.json"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range name.FindAllString(string(text), -1) {
			base := strings.TrimSuffix(m, "_bucket")
			if families[base] == nil && !strings.HasPrefix(m, "shortlinks-") {
				t.Errorf("%s reads %s, which /metrics does not expose", doc, m)
			}
		}
	}
}
