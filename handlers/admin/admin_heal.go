package admin

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// HealPage is GET /admin/health/heal: what "heal now" would do, and the
// confirming form. It is a page of its own so the confirmation step works
// without JavaScript. The groups are those of the last full check: a live
// scan of every link would outlast a request at millions of links.
func (h *Handlers) HealPage(c echo.Context) error {
	ctx := c.Request().Context()
	p := views.HealConfirm{CSRF: web.CSRFToken(c)}
	check, err := h.Store.LatestDuplicateCheck(ctx)
	switch {
	case err == nil:
		p.CheckedAt, p.Total = displayTime(check.FinishedAt), check.DuplicateGroups
		for _, g := range check.Groups {
			p.Groups = append(p.Groups, views.DuplicateGroupRow{
				Destination: g.DestinationURL, DestinationShort: shorten(g.DestinationURL, destinationDisplayLength),
				Type: g.LinkType, Links: g.Links, Slugs: g.Slugs, FirstCreated: displayTime(g.FirstCreated),
			})
		}
	case !errors.Is(err, db.ErrNotFound):
		return err
	}
	index, err := h.Store.UniqueIndexState(ctx)
	if err != nil {
		return err
	}
	p.IndexOK = index.Present && index.Valid
	if run, err := h.Store.LatestHealRun(ctx); err == nil {
		p.Running = run.Running
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	return web.Render(c, http.StatusOK, views.HealConfirmPage(h.Chrome(c, "Heal duplicates", "health"), p))
}

// HealNow is POST /admin/health/heal (CSRF-checked like every admin form):
// it starts the online heal in the background (monitor.go) and returns to
// the dashboard at once (303, so a reload does not post again), which shows
// its progress. A heal already running anywhere is not started twice.
func (h *Handlers) HealNow(c echo.Context) error {
	err := h.monitor.StartHeal(db.ActorFrom(c.Request().Context()))
	if errors.Is(err, db.ErrHealRunning) {
		return c.Redirect(http.StatusSeeOther, "/admin/health?msg=heal-running")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/health?msg=heal-started")
}
