package admin

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// ConfirmDeactivatePage is GET /admin/links/{slug}/deactivate: the question
// asked before a link stops working. It is a page, not a script prompt, so
// it works without JavaScript; its form posts to the same URL.
func (h *Handlers) ConfirmDeactivatePage(c echo.Context) error {
	l, err := h.LinkParam(c)
	if err != nil {
		return err
	}
	ret := web.SafeReturn(c.QueryParam("return"))
	if !l.IsActive { // already done (a second tab, a reload): nothing to ask
		return c.Redirect(http.StatusSeeOther, ret)
	}
	d := views.ConfirmDeactivation{Slug: l.Slug, ShortURL: h.ShortURL(l.Slug), Destination: l.DestinationURL,
		Clicks: l.ClickCount, Return: ret, CSRF: web.CSRFToken(c)}
	return web.Render(c, http.StatusOK, views.ConfirmDeactivatePage(h.Chrome(c, "Deactivate "+l.Slug+"?", "links"), d))
}

// markBlocked fills BlockedBy on the inactive rows whose destination has
// another active link, so the listing explains instead of offering a
// Reactivate that would fail.
func (h *Handlers) markBlocked(ctx context.Context, rows []views.LinkRow) error {
	var inactive []string
	for _, r := range rows {
		if !r.Active {
			inactive = append(inactive, r.Slug)
		}
	}
	blockers, err := h.Store.ActiveLinksBlocking(ctx, inactive)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].BlockedBy = blockers[rows[i].Slug]
	}
	return nil
}
