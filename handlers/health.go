package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
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

// healthJSON is the duplicate-health summary of the API. The figures are
// those of the last completed full check (CheckedAt), which runs in the
// background; whether the unique index exists and is valid is read from the
// catalog on every request.
type healthJSON struct {
	DuplicateGroups    int                  `json:"duplicate_groups"`
	DuplicateLinks     int                  `json:"duplicate_links"`
	UniqueIndexPresent bool                 `json:"unique_index_present"`
	UniqueIndexValid   bool                 `json:"unique_index_valid"`
	ActiveLinks        int                  `json:"active_links"`
	InactiveLinks      int                  `json:"inactive_links"`
	HistoryLinks       int                  `json:"history_links"`
	ConflictsResolved  int64                `json:"conflicts_resolved"`       // since this process started
	ConflictsTotal     int64                `json:"conflicts_resolved_total"` // ever, persisted by every instance
	Groups             []duplicateGroupJSON `json:"groups"`
	CheckedAt          time.Time            `json:"checked_at"` // when the last full check finished
	CheckSeconds       float64              `json:"check_seconds"`
}

// duplicateGroupJSON is one offending group as the API shows it.
type duplicateGroupJSON struct {
	DestinationURL string    `json:"destination_url"`
	LinkType       string    `json:"link_type"`
	Links          int       `json:"links"`
	Slugs          []string  `json:"slugs"`
	FirstCreated   time.Time `json:"first_created"`
}

// duplicateHealth gathers the figures the API and the dashboard share, and
// refreshes the duplicate gauges of /metrics with them. It costs a few
// index probes whatever the number of links; only the very first call on
// a database with no check yet waits for one.
func (h *Handlers) duplicateHealth(ctx context.Context) (healthJSON, error) {
	check, err := h.store.LatestDuplicateCheck(ctx)
	if errors.Is(err, db.ErrNotFound) {
		check, err = h.store.RunDuplicateCheck(ctx, db.CheckOptions{Wait: true, MaxAge: h.cfg.DuplicateCheckInterval})
	}
	if err != nil {
		return healthJSON{}, err
	}
	index, err := h.store.UniqueIndexState(ctx)
	if err != nil {
		return healthJSON{}, err
	}
	total, err := h.store.ConflictsTotal(ctx)
	if err != nil {
		return healthJSON{}, err
	}
	out := healthJSON{
		DuplicateGroups: check.DuplicateGroups, DuplicateLinks: check.DuplicateLinks,
		UniqueIndexPresent: index.Present, UniqueIndexValid: index.Valid,
		ActiveLinks: check.ActiveLinks, InactiveLinks: check.InactiveLinks, HistoryLinks: check.HistoryLinks,
		ConflictsResolved: h.store.Counters().ConflictsResolved, ConflictsTotal: total,
		Groups: make([]duplicateGroupJSON, 0, len(check.Groups)), CheckedAt: check.FinishedAt,
		CheckSeconds: check.FinishedAt.Sub(check.StartedAt).Seconds(),
	}
	for _, g := range check.Groups {
		out.Groups = append(out.Groups, duplicateGroupJSON(g))
	}
	h.metrics.recordHealth(out)
	return out, nil
}

// DuplicateHealth is GET /api/v1/health/duplicates.
func (h *Handlers) DuplicateHealth(c echo.Context) error {
	out, err := h.duplicateHealth(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
