package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// linksPageSize is how many links one listing page shows.
const linksPageSize = 50

// destinationDisplayLength is how many characters of a destination the
// listing shows; the full text is in the title attribute.
const destinationDisplayLength = 80

// LinksPage is GET /admin/links: every link, searchable, filtered, sorted
// and paginated by cursor, with deactivate and reactivate buttons.
func (h *Handlers) LinksPage(c echo.Context) error {
	q, err := h.ReadLinkQuery(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := q.Filter(linksPageSize)
	page, total, err := h.Store.ListLinksCounted(ctx, f)
	restarted := errors.Is(err, db.ErrCursorStale)
	if restarted {
		// Clicks moved links across the page the cursor marked: following
		// it could skip or repeat a link, so the walk starts again, saying so.
		q, f.Cursor = q.At(nil), nil
		page, total, err = h.Store.ListLinksCounted(ctx, f)
	}
	if err != nil {
		return err
	}
	v := h.linksView(c, q, page, total)
	if restarted {
		v.Flash = &views.Flash{Text: "The order changed while you were paging (clicks arrived), so the list starts again from the top."}
	}
	if err := h.markBlocked(ctx, v.Rows); err != nil {
		return err
	}
	chrome := h.Chrome(c, "Links", "links")
	chrome.Wide = true
	return web.Render(c, http.StatusOK, views.Links(chrome, v))
}

// linksView shapes a listing page for the template.
func (h *Handlers) linksView(c echo.Context, q web.LinkQuery, page db.LinkPage, total db.Count) views.LinksPage {
	v := views.LinksPage{
		Filter: views.LinkFilter{Query: q.Query, Type: q.Type, Active: q.Active, Sort: string(q.Sort)},
		Sorts:  web.LinkSorts(), Total: countText(total), NoMatch: total.N == 0,
		HasFilter: q.Filtered(), ClearURL: "/admin/links",
		Return: q.URL("/admin/links"), Flash: web.FlashFrom(c), CSRF: web.CSRFToken(c),
	}
	for _, t := range h.Cfg.LinkTypes {
		v.Types = append(v.Types, views.Option{Value: t, Label: t})
	}
	for _, l := range page.Links {
		v.Rows = append(v.Rows, h.linkRow(l))
	}
	v.ExportURL = q.At(nil).URL("/admin/links.csv")
	if page.Prev != nil || page.Next != nil {
		v.Pager = pagerFor(page.Prev, page.Next, func(c *db.Cursor) string { return q.At(c).URL("/admin/links") },
			v.Total+" links")
	}
	v.ByClicks = sortLink(q, db.SortMostClicks, db.SortFewestClicks)
	v.ByCreated = sortLink(q, db.SortNewest, db.SortOldest)
	return v
}

// sortLink is a column heading: it sorts by the column, descending first,
// and flips the direction when the listing is already sorted by it. The
// arrow shows the current direction.
func sortLink(q web.LinkQuery, desc, asc db.LinkSort) views.SortLink {
	s := q.At(nil)
	s.Sort = desc
	arrow := ""
	switch q.Sort {
	case desc:
		s.Sort, arrow = asc, "▼"
	case asc:
		arrow = "▲"
	}
	return views.SortLink{URL: s.URL("/admin/links"), Arrow: arrow}
}

func (h *Handlers) linkRow(l db.ListedLink) views.LinkRow {
	r := views.LinkRow{
		Slug: l.Slug, ShortURL: h.ShortURL(l.Slug), DetailURL: "/admin/links/" + l.Slug,
		Destination: l.DestinationURL, DestinationShort: shorten(l.DestinationURL, destinationDisplayLength),
		DestinationHref: httpHref(l.DestinationURL), Type: l.LinkType, Active: l.IsActive,
		Clicks: l.ClickCount, Previews: l.PreviewCount,
		Created: l.CreatedAt.UTC().Format("2006-01-02 15:04"), CreatedISO: l.CreatedAt.UTC().Format(time.RFC3339),
	}
	if l.BusinessName != nil {
		r.Business = *l.BusinessName
	}
	return r
}

// DeactivateLinkForm is POST /admin/links/{slug}/deactivate.
func (h *Handlers) DeactivateLinkForm(c echo.Context) error { return h.toggleLink(c, false) }

// ActivateLinkForm is POST /admin/links/{slug}/activate. When another link
// is active for the destination it is refused with a message naming it.
func (h *Handlers) ActivateLinkForm(c echo.Context) error { return h.toggleLink(c, true) }

// toggleLink changes a link's state and sends the browser back where the
// form came from (303, so a reload does not post again) with a message.
func (h *Handlers) toggleLink(c echo.Context, activate bool) error {
	slug := c.Param("slug")
	if !web.ValidSlug(slug) {
		return web.NotFound("link")
	}
	ctx := c.Request().Context()
	ret := web.SafeReturn(c.FormValue("return"))
	op, msg := h.Store.Deactivate, "deactivated"
	if activate {
		op, msg = h.Store.Activate, "activated"
	}
	_, err := op(ctx, slug)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return web.NotFound("link")
	case errors.Is(err, db.ErrConflict):
		other := ""
		if blocker, err := h.Store.ActiveLinkSharingDestination(ctx, slug); err == nil {
			other = blocker.Slug
		}
		return c.Redirect(http.StatusSeeOther, web.WithFlash(ret, "conflict", slug, other))
	case err != nil:
		return err
	}
	h.Log.InfoContext(c.Request().Context(), "link "+msg+" in the admin console", "slug", slug, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, web.WithFlash(ret, msg, slug, ""))
}

// shorten cuts s to at most n characters for display, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// httpHref returns dest as a link target only when it is an http(s) URL;
// anything else (javascript:, data:) is shown as text, never linked.
func httpHref(dest string) templ.SafeURL {
	u, err := url.Parse(dest)
	if err != nil || u.Host == "" {
		return ""
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return ""
	}
	return templ.SafeURL(dest)
}
