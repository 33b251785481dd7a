package web

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortlinks/shortlinks/db"
)

// webhookGauges are the delivery backlog per enabled endpoint, refreshed by
// the monitor every 30 s (ops/monitor.go) from one small query, never per
// scrape. The endpoint label is its id: a URL may hold a secret.
type webhookGauges struct {
	pending, failed, suspended, oldest *prometheus.GaugeVec
}

func newWebhookGauges(reg *prometheus.Registry) webhookGauges {
	vec := func(name, help string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"endpoint"})
		reg.MustRegister(g)
		return g
	}
	return webhookGauges{
		pending:   vec("shortlinks_webhook_deliveries_pending", "Deliveries waiting to be sent, per enabled webhook endpoint."),
		failed:    vec("shortlinks_webhook_deliveries_failed", "Deliveries given up (\"Retry now\" on /admin/webhooks sends them again), per enabled endpoint."),
		suspended: vec("shortlinks_webhook_endpoint_suspended", "1 while an enabled endpoint kept failing and is only probed."),
		oldest:    vec("shortlinks_webhook_oldest_pending_seconds", "Age of the oldest waiting delivery's event, per enabled endpoint (0 when none waits)."),
	}
}

// RecordWebhooks sets the webhook gauges from the endpoints as listed by
// db.Store.WebhookEndpoints; disabled ones are left out (nothing is sent
// to them, so their backlog is no alert).
func (m *Metrics) RecordWebhooks(eps []db.WebhookEndpoint, now time.Time) {
	g := m.webhooks
	for _, v := range []*prometheus.GaugeVec{g.pending, g.failed, g.suspended, g.oldest} {
		v.Reset()
	}
	for _, e := range eps {
		if !e.Enabled {
			continue
		}
		id := strconv.FormatInt(e.ID, 10)
		g.pending.WithLabelValues(id).Set(float64(e.Pending))
		g.failed.WithLabelValues(id).Set(float64(e.Failed))
		suspended, age := 0.0, 0.0
		if e.Suspended() {
			suspended = 1
		}
		if e.OldestPending != nil {
			age = max(0, now.Sub(*e.OldestPending).Seconds())
		}
		g.suspended.WithLabelValues(id).Set(suspended)
		g.oldest.WithLabelValues(id).Set(age)
	}
}
