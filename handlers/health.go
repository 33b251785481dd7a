package handlers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Healthz is GET /healthz: the process is up.
func (h *Handlers) Healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Readyz is GET /readyz: the database answers within a second, else 503.
// The verdict is at most a second old (readiness.go), so a flood of
// probes costs the database nothing.
func (h *Handlers) Readyz(c echo.Context) error {
	if err := h.ready.check(c.Request().Context()); err != nil {
		h.log.WarnContext(c.Request().Context(), "not ready", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}

// healthJSON is the duplicate-health summary of the API.
type healthJSON struct {
	DuplicateGroups    int                  `json:"duplicate_groups"`
	DuplicateLinks     int                  `json:"duplicate_links"`
	UniqueIndexPresent bool                 `json:"unique_index_present"`
	ActiveLinks        int                  `json:"active_links"`
	InactiveLinks      int                  `json:"inactive_links"`
	HistoryLinks       int                  `json:"history_links"`
	ConflictsResolved  int64                `json:"conflicts_resolved"`       // since this process started
	ConflictsTotal     int64                `json:"conflicts_resolved_total"` // ever, persisted by every instance
	Groups             []duplicateGroupJSON `json:"groups"`
	CheckedAt          time.Time            `json:"checked_at"`
}

// duplicateGroupJSON is a db.DuplicateGroup as the API returns it.
type duplicateGroupJSON struct {
	DestinationURL string    `json:"destination_url"`
	LinkType       string    `json:"link_type"`
	Links          int       `json:"links"`
	Slugs          []string  `json:"slugs"`
	FirstCreated   time.Time `json:"first_created"`
}

// duplicateHealth gathers the figures the API and the dashboard share, and
// refreshes the duplicate gauges of /metrics with them.
func (h *Handlers) duplicateHealth(ctx context.Context) (healthJSON, error) {
	hs, err := h.store.Health(ctx)
	if err != nil {
		return healthJSON{}, err
	}
	groups := []duplicateGroupJSON{}
	if hs.DuplicateGroups > 0 {
		found, err := h.store.DuplicateGroups(ctx)
		if err != nil {
			return healthJSON{}, err
		}
		for _, g := range found {
			groups = append(groups, duplicateGroupJSON(g))
		}
	}
	total, err := h.store.ConflictsTotal(ctx)
	if err != nil {
		return healthJSON{}, err
	}
	out := healthJSON{
		DuplicateGroups: hs.DuplicateGroups, DuplicateLinks: hs.DuplicateLinks,
		UniqueIndexPresent: hs.UniqueIndexPresent, ActiveLinks: hs.ActiveLinks,
		InactiveLinks: hs.InactiveLinks, HistoryLinks: hs.HistoryLinks,
		ConflictsResolved: h.store.Counters().ConflictsResolved, ConflictsTotal: total,
		Groups: groups, CheckedAt: hs.CheckedAt,
	}
	h.metrics.recordHealth(out)
	h.lastHealth.store(out)
	return out, nil
}

// recentHealth is duplicateHealth, or its last result when younger than
// maxAge: the dashboard's self-refresh of every open tab costs at most one
// monitoring query per maxAge.
func (h *Handlers) recentHealth(ctx context.Context, maxAge time.Duration) (healthJSON, error) {
	if v, ok := h.lastHealth.load(maxAge); ok {
		return v, nil
	}
	return h.duplicateHealth(ctx)
}

// healthCache keeps the last duplicate-health result.
type healthCache struct {
	mu sync.Mutex
	at time.Time
	v  healthJSON
}

func (c *healthCache) store(v healthJSON) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at, c.v = time.Now(), v
}

func (c *healthCache) load(maxAge time.Duration) (healthJSON, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v, !c.at.IsZero() && time.Since(c.at) < maxAge
}

// DuplicateHealth is GET /api/v1/health/duplicates.
func (h *Handlers) DuplicateHealth(c echo.Context) error {
	out, err := h.duplicateHealth(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
