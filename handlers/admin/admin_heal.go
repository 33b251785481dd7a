package admin

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// HealPage is GET /admin/health/heal: what "heal now" would do, and the
// confirming form. It is a page of its own so the confirmation step works
// without JavaScript.
func (h *Handlers) HealPage(c echo.Context) error {
	groups, err := h.Store.DuplicateGroups(c.Request().Context())
	if err != nil {
		return err
	}
	p := views.HealConfirm{CSRF: web.CSRFToken(c)}
	for _, g := range groups {
		p.Groups = append(p.Groups, views.DuplicateGroupRow{
			Destination: g.DestinationURL, DestinationShort: shorten(g.DestinationURL, destinationDisplayLength),
			Type: g.LinkType, Links: g.Links, Slugs: g.Slugs, FirstCreated: displayTime(g.FirstCreated),
		})
	}
	return web.Render(c, http.StatusOK, views.HealConfirmPage(h.Chrome(c, "Heal duplicates", "health"), p))
}

// HealNow is POST /admin/health/heal (CSRF-checked like every admin form):
// keep the oldest active link of each duplicate group, merge the others
// into it, then back to the dashboard (303, so a reload does not post
// again) saying how many links were merged.
func (h *Handlers) HealNow(c echo.Context) error {
	slugs, err := h.Store.HealDuplicates(c.Request().Context())
	if err != nil {
		return err
	}
	for _, s := range slugs {
		h.Redirects.Invalidate(s) // others hear it through the change feed
	}
	h.Log.Info("duplicates healed in the admin console", "merged", len(slugs), "slugs", slugs, "ip", c.RealIP())
	h.monitor.RequestCheck(db.ActorFrom(c.Request().Context())) // the dashboard turns green when the check confirms it
	return c.Redirect(http.StatusSeeOther, "/admin/health?healed="+strconv.Itoa(len(slugs)))
}
