package handlers

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
	"github.com/shortlinks/shortlinks/views"
)

// linksPageSize is how many links one listing page shows.
const linksPageSize = 50

// destinationDisplayLength is how many characters of a destination the
// listing shows; the full text is in the title attribute.
const destinationDisplayLength = 80

// linkPages registers the link listing and detail pages under /admin.
func (h *Handlers) linkPages(admin *echo.Group) {
	get(admin, "/links", h.LinksPage)
	get(admin, "/links.csv", h.LinksCSV) // admin_links_csv.go
	get(admin, "/links/:slug", h.LinkDetailPage)
	get(admin, "/links/:slug/deactivate", h.ConfirmDeactivatePage) // admin_links_confirm.go
	admin.POST("/links/:slug/deactivate", h.DeactivateLinkForm)
	admin.POST("/links/:slug/activate", h.ActivateLinkForm)
}

// LinksPage is GET /admin/links: every link, searchable, filtered, sorted
// and paginated by cursor, with deactivate and reactivate buttons.
func (h *Handlers) LinksPage(c echo.Context) error {
	q, err := h.readLinkQuery(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := q.filter(linksPageSize)
	page, err := h.store.ListLinks(ctx, f)
	restarted := errors.Is(err, db.ErrCursorStale)
	if restarted {
		// Clicks moved links across the page the cursor marked: following
		// it could skip or repeat a link, so the walk starts again, saying so.
		q, f.Cursor = q.at(nil), nil
		page, err = h.store.ListLinks(ctx, f)
	}
	if err != nil {
		return err
	}
	total, err := h.store.CountLinks(ctx, f)
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
	chrome := h.chrome(c, "Links", "links")
	chrome.Wide = true
	return render(c, http.StatusOK, views.Links(chrome, v))
}

// linksView shapes a listing page for the template.
func (h *Handlers) linksView(c echo.Context, q linkQuery, page db.LinkPage, total db.Count) views.LinksPage {
	v := views.LinksPage{
		Filter: views.LinkFilter{Query: q.Query, Type: q.Type, Active: q.Active, Sort: string(q.Sort)},
		Sorts:  linkSorts(), Total: countText(total), NoMatch: total.N == 0,
		HasFilter: q.filtered(), ClearURL: "/admin/links",
		Return: q.url("/admin/links"), Flash: flashFrom(c), CSRF: csrfToken(c),
	}
	for _, t := range h.cfg.LinkTypes {
		v.Types = append(v.Types, views.Option{Value: t, Label: t})
	}
	for _, l := range page.Links {
		v.Rows = append(v.Rows, h.linkRow(l))
	}
	v.ExportURL = q.at(nil).url("/admin/links.csv")
	if page.Prev != nil || page.Next != nil {
		v.Pager = pagerFor(page.Prev, page.Next, func(c *db.Cursor) string { return q.at(c).url("/admin/links") },
			v.Total+" links")
	}
	v.ByClicks = sortLink(q, db.SortMostClicks, db.SortFewestClicks)
	v.ByCreated = sortLink(q, db.SortNewest, db.SortOldest)
	return v
}

// sortLink is a column heading: it sorts by the column, descending first,
// and flips the direction when the listing is already sorted by it. The
// arrow shows the current direction.
func sortLink(q linkQuery, desc, asc db.LinkSort) views.SortLink {
	s := q.at(nil)
	s.Sort = desc
	arrow := ""
	switch q.Sort {
	case desc:
		s.Sort, arrow = asc, "▼"
	case asc:
		arrow = "▲"
	}
	return views.SortLink{URL: s.url("/admin/links"), Arrow: arrow}
}

func (h *Handlers) linkRow(l db.ListedLink) views.LinkRow {
	r := views.LinkRow{
		Slug: l.Slug, ShortURL: h.shortURL(l.Slug), DetailURL: "/admin/links/" + l.Slug,
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
	if !validSlug(slug) {
		return notFound("link")
	}
	ctx := c.Request().Context()
	ret := safeReturn(c.FormValue("return"))
	op, msg := h.store.Deactivate, "deactivated"
	if activate {
		op, msg = h.store.Activate, "activated"
	}
	_, err := op(ctx, slug)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return notFound("link")
	case errors.Is(err, db.ErrConflict):
		other := ""
		if blocker, err := h.store.ActiveLinkSharingDestination(ctx, slug); err == nil {
			other = blocker.Slug
		}
		return c.Redirect(http.StatusSeeOther, withFlash(ret, "conflict", slug, other))
	case err != nil:
		return err
	}
	h.log.InfoContext(c.Request().Context(), "link "+msg+" in the admin console", "slug", slug, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, withFlash(ret, msg, slug, ""))
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

// displayTime formats a timestamp for the console, in UTC so every admin
// reads the same time.
func displayTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
