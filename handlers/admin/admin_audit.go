package admin

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// AuditPage is GET /admin/audit (admins).
func (h *Handlers) AuditPage(c echo.Context) error {
	f, vf, err := web.AuditQuery(c, 100)
	p := views.AuditPage{Filter: vf, Actions: db.AuditActions}
	if err != nil {
		var ae *web.APIError
		if errors.As(err, &ae) {
			p.Error = ae.Message
		}
		return web.Render(c, http.StatusBadRequest, views.Audit(h.Chrome(c, "Audit", "audit"), p))
	}
	page, err := h.Store.ListAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	for _, e := range page.Entries {
		p.Rows = append(p.Rows, views.AuditRow{At: e.At.UTC().Format("2006-01-02 15:04:05"), Actor: e.Actor,
			Action: e.Action, Object: auditObject(e), Before: jsonOrEmpty(e.Before), After: jsonOrEmpty(e.After), Client: e.ClientAddr})
	}
	q := c.QueryParams()
	q.Del("cursor")
	p.CSVURL = "/admin/audit.csv?" + q.Encode()
	if page.Next != nil {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("cursor", page.Next.String())
		p.NextURL = "/admin/audit?" + next.Encode()
	}
	return web.Render(c, http.StatusOK, views.Audit(h.Chrome(c, "Audit", "audit"), p))
}

func auditObject(e db.AuditEntry) string {
	if e.ObjectID == "" {
		return e.ObjectType
	}
	return e.ObjectType + " " + e.ObjectID
}

func jsonOrEmpty(raw []byte) string {
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// AuditCSV is GET /admin/audit.csv: every row matching the page's filters,
// newest first, a thousand rows per query.
func (h *Handlers) AuditCSV(c echo.Context) error {
	f, _, err := web.AuditQuery(c, 1000)
	if err != nil {
		return err
	}
	f.Cursor = nil
	resp := c.Response()
	http.NewResponseController(resp.Writer).SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	w := csv.NewWriter(resp)
	for started := false; ; {
		page, err := h.Store.ListAudit(c.Request().Context(), f)
		if err != nil {
			if !started {
				return err
			}
			// Already 200: abort the response so the download reads as
			// failed rather than complete (as the links export does).
			h.Log.WarnContext(c.Request().Context(), "audit export cut short", "err", err)
			panic(http.ErrAbortHandler)
		}
		if !started {
			started = true
			resp.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
			resp.Header().Set(echo.HeaderContentDisposition,
				`attachment; filename="audit-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
			resp.WriteHeader(http.StatusOK)
			w.Write([]string{"id", "at", "actor", "actor_kind", "action", "object_type", "object_id", "before", "after", "client_addr"})
		}
		for _, e := range page.Entries {
			w.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), csvCell(e.Actor), e.ActorKind,
				e.Action, csvCell(e.ObjectType), csvCell(e.ObjectID), csvCell(jsonOrEmpty(e.Before)), csvCell(jsonOrEmpty(e.After)), e.ClientAddr})
		}
		w.Flush()
		if page.Next == nil || w.Error() != nil {
			return nil
		}
		f.Cursor = page.Next
	}
}
