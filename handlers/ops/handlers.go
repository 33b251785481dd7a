// Package ops serves the operations surface: /healthz (the process is up),
// /readyz (a database check at most a second old, readiness.go) and
// /metrics (metrics_access.go: loopback, a token, or public when
// configured). It also holds the duplicate monitor (monitor.go), a
// background task that cmd/shortlinks starts and stops through
// handlers.Runtime: it refreshes the duplicate gauges and runs the full
// duplicate check.
//
// It may import handlers/web and db; never another surface (handlers/admin,
// api, shlink, public), views, nor the root handlers package.
package ops

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortlinks/shortlinks/handlers/web"
)

// Handlers serves the operations endpoints; build it with New.
type Handlers struct {
	*web.Base
	ready readiness // readiness.go: /readyz's last database check
}

// New returns the operations handlers; it starts nothing (a readiness
// check runs when /readyz asks for one).
func New(base *web.Base) *Handlers {
	h := &Handlers{Base: base}
	h.ready.ping = base.Store.Ping
	// /readyz's verdict for alerting (docs/ops/alerts.yml): read at scrape
	// time from the same shared check, so scrapes cost the database at most
	// a ping a second. A second New over one base keeps the first gauge.
	_ = base.Metrics.Reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shortlinks_ready", Help: "1 when /readyz answers 200 (the database answers within a second), else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if h.ready.check(ctx) != nil {
			return 0
		}
		return 1
	}))
	return h
}

// Healthz is GET /healthz: the process is up.
func (h *Handlers) Healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Readyz is GET /readyz: the database answers within a second, else 503.
// The verdict is at most a second old (readiness.go), so a flood of
// probes costs the database nothing.
func (h *Handlers) Readyz(c echo.Context) error {
	if err := h.ready.check(c.Request().Context()); err != nil {
		h.Log.WarnContext(c.Request().Context(), "not ready", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}
