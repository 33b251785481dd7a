package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/views"
)

// ConfirmDeactivatePage is GET /admin/links/{slug}/deactivate: the question
// asked before a link stops working. It is a page, not a script prompt, so
// it works without JavaScript; its form posts to the same URL.
func (h *Handlers) ConfirmDeactivatePage(c echo.Context) error {
	slug := c.Param("slug")
	if !validSlug(slug) {
		return notFound("link")
	}
	l, err := h.store.FindBySlug(c.Request().Context(), slug)
	if errors.Is(err, db.ErrNotFound) {
		return notFound("link")
	}
	if err != nil {
		return err
	}
	ret := safeReturn(c.QueryParam("return"))
	if !l.IsActive { // already done (a second tab, a reload): nothing to ask
		return c.Redirect(http.StatusSeeOther, ret)
	}
	d := views.ConfirmDeactivation{Slug: l.Slug, ShortURL: h.shortURL(l.Slug), Destination: l.DestinationURL,
		Clicks: l.ClickCount, Return: ret, CSRF: csrfToken(c)}
	return render(c, http.StatusOK, views.ConfirmDeactivatePage(h.chrome(c, "Deactivate "+l.Slug+"?", "links"), d))
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
	blockers, err := h.store.ActiveLinksBlocking(ctx, inactive)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].BlockedBy = blockers[rows[i].Slug]
	}
	return nil
}
