package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// HealthPage is GET /admin/health: whether the one-active-link guarantee
// holds, from the same figures as GET /api/v1/health/duplicates: the last
// full check (with its time) and the unique index as the catalog has it now.
func (h *Handlers) HealthPage(c echo.Context) error {
	hs, err := h.Health(c.Request().Context())
	if err != nil {
		return err
	}
	p := healthView(hs, h.Cfg.DuplicateCheckInterval)
	p.CSRF = web.CSRFToken(c)
	// "A check has started" only until a check finishes after the press.
	if at, err := strconv.ParseInt(c.QueryParam("requested"), 10, 64); err == nil && c.QueryParam("msg") == "check-started" {
		p.CheckPending = hs.CheckedAt == nil || hs.CheckedAt.Unix() < at
	}
	p.HealRefused = c.QueryParam("msg") == "heal-running"
	p.Clicks = h.clickHealth(c.Request().Context())
	p.Clicks.Replayed, p.Clicks.ReplayFailed = replayFlash(c)
	return web.Render(c, http.StatusOK, views.Health(h.Chrome(c, "Health", "health"), p))
}

// HealthCheckForm is POST /admin/health/check, the dashboard's "Check now"
// button: it starts a full check in the background and comes back to the
// dashboard, whose self-refresh shows the result when the check finishes.
func (h *Handlers) HealthCheckForm(c echo.Context) error {
	h.monitor.RequestCheck(db.ActorFrom(c.Request().Context()))
	h.Log.Info("duplicate check requested from the dashboard", "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, "/admin/health?msg=check-started&requested="+strconv.FormatInt(time.Now().Unix(), 10))
}

func healthView(hs web.HealthJSON, every time.Duration) views.HealthPage {
	p := views.HealthPage{
		Status:          hs.Status,
		DuplicateGroups: hs.DuplicateGroups, DuplicateLinks: hs.DuplicateLinks,
		IndexPresent: hs.UniqueIndexPresent, IndexValid: hs.UniqueIndexValid, IndexName: db.UniqueIndexName,
		CountsKnown: hs.Status == web.HealthOK || hs.Status == web.HealthDegraded && hs.CheckedAt != nil && time.Since(*hs.CheckedAt) <= 2*every,
		ActiveLinks: hs.ActiveLinks, InactiveLinks: hs.InactiveLinks, HistoryLinks: hs.HistoryLinks,
		ConflictsSinceStart: hs.ConflictsResolved, ConflictsTotal: hs.ConflictsTotal,
		MoreGroups:    hs.DuplicateGroups > len(hs.Groups), // the store lists the largest 100
		CheckDuration: (time.Duration(hs.CheckSeconds*1000) * time.Millisecond).String(), CheckEvery: every.String(),
	}
	if hs.CheckedAt != nil {
		p.CheckedAt, p.CheckedAtISO = hs.CheckedAt.UTC().Format("2006-01-02 15:04:05 UTC"), hs.CheckedAt.UTC().Format(time.RFC3339)
	}
	if r := hs.Heal; r != nil {
		hp := views.HealProgress{
			ID: r.ID, State: r.State, Running: r.Running, Interrupted: r.Interrupted, Source: r.Source,
			Started: displayTime(r.StartedAt), StartedISO: r.StartedAt.UTC().Format(time.RFC3339),
			ScannedPct: r.ScannedPercent, Done: r.DestinationsDone, Total: r.DestinationsTotal, Merged: r.LinksMerged, Error: r.Error,
		}
		if r.FinishedAt != nil {
			hp.Finished = displayTime(*r.FinishedAt)
		}
		if r.ETASeconds != nil {
			hp.ETA = (time.Duration(*r.ETASeconds) * time.Second).String()
		}
		p.Heal = &hp
	}
	for _, g := range hs.Groups {
		p.Groups = append(p.Groups, views.DuplicateGroupRow{
			Destination: g.DestinationURL, DestinationShort: shorten(g.DestinationURL, destinationDisplayLength),
			Type: g.LinkType, Links: g.Links, Slugs: g.Slugs, FirstCreated: displayTime(g.FirstCreated),
		})
	}
	return p
}
