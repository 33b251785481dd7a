package web

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/views"
)

// AuditQuery reads the audit filters shared by the page, the CSV and
// GET /api/v1/audit: actor, action, object_type, object_id, since and
// until (YYYY-MM-DD or RFC 3339; until's day is included), cursor.
func AuditQuery(c echo.Context, limit int) (db.AuditFilter, views.AuditFilter, error) {
	vf := views.AuditFilter{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"),
		ObjectType: c.QueryParam("object_type"), ObjectID: c.QueryParam("object_id"),
		Since: c.QueryParam("since"), Until: c.QueryParam("until")}
	f := db.AuditFilter{Actor: vf.Actor, Action: vf.Action, ObjectType: vf.ObjectType, ObjectID: vf.ObjectID, Limit: limit}
	for name, v := range map[string]string{"actor": f.Actor, "action": f.Action, "object_type": f.ObjectType, "object_id": f.ObjectID} {
		if len(v) > 300 || !IsPlainText(v) {
			return f, vf, Invalid(name, "%s must be plain text of at most 300 bytes", name)
		}
	}
	var err error
	if f.Since, err = auditTime(vf.Since, false); err != nil {
		return f, vf, Invalid("since", "since must be a date (YYYY-MM-DD) or an RFC 3339 time")
	}
	if f.Until, err = auditTime(vf.Until, true); err != nil {
		return f, vf, Invalid("until", "until must be a date (YYYY-MM-DD) or an RFC 3339 time")
	}
	if raw := c.QueryParam("cursor"); raw != "" {
		cur, err := db.ParseCursor(raw)
		if err != nil {
			return f, vf, Invalid("cursor", "cursor is not one this listing returned")
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
