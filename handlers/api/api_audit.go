package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// auditListJSON is GET /api/v1/audit's answer.
type auditListJSON struct {
	Entries    []db.AuditEntry `json:"entries"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// ListAudit is GET /api/v1/audit?actor=&action=&object_type=&object_id=&since=&until=&limit=&cursor=
// (admins): the trail newest first; pass next_cursor back as ?cursor=.
func (h *Handlers) ListAudit(c echo.Context) error {
	limit, err := web.LimitParam(c, 100)
	if err != nil {
		return err
	}
	f, _, err := web.AuditQuery(c, limit)
	if err != nil {
		return err
	}
	page, err := h.Store.ListAudit(c.Request().Context(), f)
	if errors.Is(err, db.ErrInvalidInput) {
		return web.Invalid("cursor", "cursor is not one this listing returned")
	}
	if err != nil {
		return err
	}
	out := auditListJSON{Entries: page.Entries}
	if page.Next != nil {
		out.NextCursor = page.Next.String()
	}
	return c.JSON(http.StatusOK, out)
}
