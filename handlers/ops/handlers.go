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
	"net/http"

	"github.com/labstack/echo/v4"
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
