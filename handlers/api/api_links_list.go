package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// apiLinksDefaultLimit is a page of GET /api/v1/links without ?limit=
// (at most maxPageSize, validate.go).
const apiLinksDefaultLimit = 50

// linkListJSON is one page of GET /api/v1/links. NextCursor is absent on
// the last page.
type linkListJSON struct {
	Links      []linkJSON `json:"links"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// ListLinks is GET /api/v1/links?q=&type=&active=&sort=&limit=&cursor=: the
// admin listing's filters and orders (newest first by default), one page at
// a time. Pass next_cursor back as ?cursor= for the next page; each page
// starts right after the last row of the one before, so rows inserted while
// a client walks never make it see a row twice or skip one that existed.
func (h *Handlers) ListLinks(c echo.Context) error {
	q, err := h.ReadLinkQuery(c)
	if err != nil {
		return err
	}
	limit, err := web.LimitParam(c, apiLinksDefaultLimit)
	if err != nil {
		return err
	}
	page, err := h.Store.ListLinks(c.Request().Context(), q.Filter(limit))
	if err != nil {
		return err
	}
	out := linkListJSON{Links: make([]linkJSON, 0, len(page.Links))}
	for _, l := range page.Links {
		out.Links = append(out.Links, h.linkJSON(l.Link))
	}
	if page.Next != nil && len(page.Links) > 0 {
		out.NextCursor = page.Next.String()
	}
	return c.JSON(http.StatusOK, out)
}
