package handlers

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/views"
)

// auditQuery reads the audit filters shared by the page, the CSV and
// GET /api/v1/audit: actor, action, object_type, object_id, since and
// until (YYYY-MM-DD or RFC 3339; until's day is included), cursor.
func auditQuery(c echo.Context, limit int) (db.AuditFilter, views.AuditFilter, error) {
	vf := views.AuditFilter{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"),
		ObjectType: c.QueryParam("object_type"), ObjectID: c.QueryParam("object_id"),
		Since: c.QueryParam("since"), Until: c.QueryParam("until")}
	f := db.AuditFilter{Actor: vf.Actor, Action: vf.Action, ObjectType: vf.ObjectType, ObjectID: vf.ObjectID, Limit: limit}
	for name, v := range map[string]string{"actor": f.Actor, "action": f.Action, "object_type": f.ObjectType, "object_id": f.ObjectID} {
		if len(v) > 300 || !isPlainText(v) {
			return f, vf, invalid(name, "%s must be plain text of at most 300 bytes", name)
		}
	}
	var err error
	if f.Since, err = auditTime(vf.Since, false); err != nil {
		return f, vf, invalid("since", "since must be a date (YYYY-MM-DD) or an RFC 3339 time")
	}
	if f.Until, err = auditTime(vf.Until, true); err != nil {
		return f, vf, invalid("until", "until must be a date (YYYY-MM-DD) or an RFC 3339 time")
	}
	if raw := c.QueryParam("cursor"); raw != "" {
		cur, err := db.ParseCursor(raw)
		if err != nil {
			return f, vf, invalid("cursor", "cursor is not one this listing returned")
		}
		f.Cursor = &cur
	}
	return f, vf, nil
}

// auditTime parses a filter time; a bare date as the end of a range
// includes that whole day.
func auditTime(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.Add(24 * time.Hour)
		}
		return d, nil
	}
	return time.Parse(time.RFC3339, s)
}

// AuditPage is GET /admin/audit (admins).
func (h *Handlers) AuditPage(c echo.Context) error {
	f, vf, err := auditQuery(c, 100)
	p := views.AuditPage{Filter: vf, Actions: db.AuditActions}
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			p.Error = ae.Message
		}
		return render(c, http.StatusBadRequest, views.Audit(h.chrome(c, "Audit", "audit"), p))
	}
	page, err := h.store.ListAudit(c.Request().Context(), f)
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
	return render(c, http.StatusOK, views.Audit(h.chrome(c, "Audit", "audit"), p))
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
	f, _, err := auditQuery(c, 1000)
	if err != nil {
		return err
	}
	f.Cursor = nil
	resp := c.Response()
	http.NewResponseController(resp.Writer).SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	w := csv.NewWriter(resp)
	for started := false; ; {
		page, err := h.store.ListAudit(c.Request().Context(), f)
		if err != nil {
			if !started {
				return err
			}
			h.log.WarnContext(c.Request().Context(), "audit export cut short", "err", err)
			return nil
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

// auditListJSON is GET /api/v1/audit's answer.
type auditListJSON struct {
	Entries    []db.AuditEntry `json:"entries"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// APIAudit is GET /api/v1/audit?actor=&action=&object_type=&object_id=&since=&until=&limit=&cursor=
// (admins): the trail newest first; pass next_cursor back as ?cursor=.
func (h *Handlers) APIAudit(c echo.Context) error {
	limit, err := limitParam(c, 100)
	if err != nil {
		return err
	}
	f, _, err := auditQuery(c, limit)
	if err != nil {
		return err
	}
	page, err := h.store.ListAudit(c.Request().Context(), f)
	if errors.Is(err, db.ErrInvalidInput) {
		return invalid("cursor", "cursor is not one this listing returned")
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
