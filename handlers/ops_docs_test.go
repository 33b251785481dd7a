package handlers_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
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
	// What the monitor does every 30 s (ops/monitor.go), now.
	app.RT.Base.Metrics.RecordWebhooks(eps, time.Now())
	// The duplicate gauges appear once the first check (run at start) ends.
	families := scrape(t, app)
	pollUntil(30*time.Second, func() bool {
		families = scrape(t, app)
		return families["shortlinks_links"] != nil
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
