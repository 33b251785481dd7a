package web

import (
	"context"
	"errors"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// healthJSON is the duplicate-health summary of the API. The figures are
// those of the last completed full check (CheckedAt), which runs in the
// background; whether the unique index exists and is valid is read from the
// catalog on every request.
type HealthJSON struct {
	DuplicateGroups    int                  `json:"duplicate_groups"`
	DuplicateLinks     int                  `json:"duplicate_links"`
	UniqueIndexPresent bool                 `json:"unique_index_present"`
	UniqueIndexValid   bool                 `json:"unique_index_valid"`
	ActiveLinks        int                  `json:"active_links"`
	InactiveLinks      int                  `json:"inactive_links"`
	HistoryLinks       int                  `json:"history_links"`
	ConflictsResolved  int64                `json:"conflicts_resolved"`       // since this process started
	ConflictsTotal     int64                `json:"conflicts_resolved_total"` // ever, persisted by every instance
	Groups             []DuplicateGroupJSON `json:"groups"`
	CheckedAt          time.Time            `json:"checked_at"` // when the last full check finished
	CheckSeconds       float64              `json:"check_seconds"`
}

// duplicateGroupJSON is one offending group as the API shows it.
type DuplicateGroupJSON struct {
	DestinationURL string    `json:"destination_url"`
	LinkType       string    `json:"link_type"`
	Links          int       `json:"links"`
	Slugs          []string  `json:"slugs"`
	FirstCreated   time.Time `json:"first_created"`
}

// Health gathers the figures the API and the dashboard share, and
// refreshes the duplicate gauges of /metrics with them. It costs a few
// index probes whatever the number of links; only the very first call on
// a database with no check yet waits for one.
func (h *Base) Health(ctx context.Context) (HealthJSON, error) {
	check, err := h.Store.LatestDuplicateCheck(ctx)
	if errors.Is(err, db.ErrNotFound) {
		check, err = h.Store.RunDuplicateCheck(ctx, db.CheckOptions{Wait: true, MaxAge: h.Cfg.DuplicateCheckInterval})
	}
	if err != nil {
		return HealthJSON{}, err
	}
	index, err := h.Store.UniqueIndexState(ctx)
	if err != nil {
		return HealthJSON{}, err
	}
	total, err := h.Store.ConflictsTotal(ctx)
	if err != nil {
		return HealthJSON{}, err
	}
	out := HealthJSON{
		DuplicateGroups: check.DuplicateGroups, DuplicateLinks: check.DuplicateLinks,
		UniqueIndexPresent: index.Present, UniqueIndexValid: index.Valid,
		ActiveLinks: check.ActiveLinks, InactiveLinks: check.InactiveLinks, HistoryLinks: check.HistoryLinks,
		ConflictsResolved: h.Store.Counters().ConflictsResolved, ConflictsTotal: total,
		Groups: make([]DuplicateGroupJSON, 0, len(check.Groups)), CheckedAt: check.FinishedAt,
		CheckSeconds: check.FinishedAt.Sub(check.StartedAt).Seconds(),
	}
	for _, g := range check.Groups {
		out.Groups = append(out.Groups, DuplicateGroupJSON(g))
	}
	h.Metrics.recordHealth(out)
	return out, nil
}
