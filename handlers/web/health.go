package web

import (
	"context"
	"errors"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// HealthJSON is the duplicate-health summary of the API. The figures are
// those of the last completed full check (CheckedAt), which runs in the
// background; whether the unique index exists and is valid is read from the
// catalog on every request, and Status says at once whether the guarantee
// is in force and the figures current.
type HealthJSON struct {
	// Status: "degraded" when the unique index is missing or invalid (the
	// guarantee is not in force), else "unknown" when no check has finished
	// or the last is older than twice the check interval, else "ok".
	Status             string               `json:"status"`
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
	CheckedAt          *time.Time           `json:"checked_at"` // when the last full check finished; null: never
	CheckSeconds       float64              `json:"check_seconds"`
	Heal               *HealRunJSON         `json:"heal"` // the latest heal; null: none ever
}

// Values of HealthJSON.Status.
const (
	HealthOK       = "ok"
	HealthDegraded = "degraded"
	HealthUnknown  = "unknown"
)

// HealRunJSON is the latest heal as the API shows it (heal_runs).
type HealRunJSON struct {
	ID                int64      `json:"id"`
	State             string     `json:"state"` // scanning, healing, indexing, done, failed
	Running           bool       `json:"running"`
	Interrupted       bool       `json:"interrupted"` // stopped part-way; the next heal resumes it
	Source            string     `json:"source"`      // console, cli, migration
	StartedAt         time.Time  `json:"started_at"`
	FinishedAt        *time.Time `json:"finished_at"`
	ScannedPercent    int        `json:"scanned_percent"`
	DestinationsDone  int64      `json:"destinations_done"`
	DestinationsTotal int64      `json:"destinations_total"` // duplicate destinations found so far
	LinksMerged       int64      `json:"links_merged"`
	ETASeconds        *float64   `json:"eta_seconds"` // null when not running or not yet known
	Error             string     `json:"error"`
}

// DuplicateGroupJSON is one offending group as the API shows it.
type DuplicateGroupJSON struct {
	DestinationURL string    `json:"destination_url"`
	LinkType       string    `json:"link_type"`
	Links          int       `json:"links"`
	Slugs          []string  `json:"slugs"`
	FirstCreated   time.Time `json:"first_created"`
}

// Health gathers the figures the API and the dashboard share, and
// refreshes the duplicate gauges of /metrics with them. It costs a few
// index probes whatever the number of links and never waits for a check:
// before the first one the status is "unknown".
func (h *Base) Health(ctx context.Context) (HealthJSON, error) {
	reading := h.Metrics.startHealth()
	check, err := h.Store.LatestDuplicateCheck(ctx)
	checked := err == nil
	if err != nil && !errors.Is(err, db.ErrNotFound) {
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
	heal, err := h.Store.LatestHealRun(ctx)
	healed := err == nil
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return HealthJSON{}, err
	}
	out := HealthJSON{
		UniqueIndexPresent: index.Present, UniqueIndexValid: index.Valid,
		ConflictsResolved: h.Store.Counters().ConflictsResolved, ConflictsTotal: total,
		Groups: []DuplicateGroupJSON{},
	}
	if checked {
		out.DuplicateGroups, out.DuplicateLinks = check.DuplicateGroups, check.DuplicateLinks
		out.ActiveLinks, out.InactiveLinks, out.HistoryLinks = check.ActiveLinks, check.InactiveLinks, check.HistoryLinks
		out.CheckedAt, out.CheckSeconds = &check.FinishedAt, check.FinishedAt.Sub(check.StartedAt).Seconds()
		for _, g := range check.Groups {
			out.Groups = append(out.Groups, DuplicateGroupJSON(g))
		}
		// A heal that finished after the check, with the index valid now,
		// left no duplicate (the index refuses them): the check's groups
		// are history, not the state.
		if index.Present && index.Valid && healed && heal.FinishedAt != nil && heal.FinishedAt.After(check.FinishedAt) {
			out.DuplicateGroups, out.DuplicateLinks, out.Groups = 0, 0, []DuplicateGroupJSON{}
		}
	}
	switch {
	case !index.Present || !index.Valid:
		out.Status = HealthDegraded
	case !checked || time.Since(check.FinishedAt) > 2*h.Cfg.DuplicateCheckInterval:
		out.Status = HealthUnknown
	default:
		out.Status = HealthOK
	}
	if healed {
		out.Heal = HealRunView(heal, time.Now())
	}
	h.Metrics.recordHealth(out, reading)
	return out, nil
}

// HealRunView is the API shape of a heal run as of now.
func HealRunView(r db.HealRun, now time.Time) *HealRunJSON {
	out := &HealRunJSON{
		ID: r.ID, State: r.State, Running: r.Running, Interrupted: r.Interrupted(), Source: r.Source,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, ScannedPercent: r.RangesDone * 100 / db.HealScanRanges,
		DestinationsDone: r.GroupsDone, DestinationsTotal: r.GroupsFound, LinksMerged: r.LinksMerged, Error: r.Error,
	}
	if eta := r.ETA(now); r.Running && eta > 0 {
		s := eta.Seconds()
		out.ETASeconds = &s
	}
	return out
}
