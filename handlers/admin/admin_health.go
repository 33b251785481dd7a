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
	p.CheckStarted = c.QueryParam("msg") == "check-started"
	if n, err := strconv.Atoi(c.QueryParam("healed")); err == nil && n >= 0 {
		p.Healed = &n
	}
	return web.Render(c, http.StatusOK, views.Health(h.Chrome(c, "Health", "health"), p))
}

// HealthCheckForm is POST /admin/health/check, the dashboard's "Check now"
// button: it starts a full check in the background and comes back to the
// dashboard, whose self-refresh shows the result when the check finishes.
func (h *Handlers) HealthCheckForm(c echo.Context) error {
	h.monitor.RequestCheck(db.ActorFrom(c.Request().Context()))
	h.Log.Info("duplicate check requested from the dashboard", "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, "/admin/health?msg=check-started")
}

func healthView(hs web.HealthJSON, every time.Duration) views.HealthPage {
	p := views.HealthPage{
		DuplicateGroups: hs.DuplicateGroups, DuplicateLinks: hs.DuplicateLinks,
		IndexPresent: hs.UniqueIndexPresent && hs.UniqueIndexValid, IndexName: db.UniqueIndexName,
		ActiveLinks: hs.ActiveLinks, InactiveLinks: hs.InactiveLinks, HistoryLinks: hs.HistoryLinks,
		ConflictsSinceStart: hs.ConflictsResolved, ConflictsTotal: hs.ConflictsTotal,
		MoreGroups: hs.DuplicateGroups > len(hs.Groups), // the store lists the largest 100
		CheckedAt:  hs.CheckedAt.UTC().Format("2006-01-02 15:04:05 UTC"), CheckedAtISO: hs.CheckedAt.UTC().Format(time.RFC3339),
		CheckDuration: (time.Duration(hs.CheckSeconds*1000) * time.Millisecond).String(), CheckEvery: every.String(),
	}
	for _, g := range hs.Groups {
		p.Groups = append(p.Groups, views.DuplicateGroupRow{
			Destination: g.DestinationURL, DestinationShort: shorten(g.DestinationURL, destinationDisplayLength),
			Type: g.LinkType, Links: g.Links, Slugs: g.Slugs, FirstCreated: displayTime(g.FirstCreated),
		})
	}
	return p
}
