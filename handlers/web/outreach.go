package web

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
)

// Actor is who is acting, for sends' "by whom" and a void's: the
// signed-in user's email, "key:NAME" for a named API key, "API_TOKEN" for
// a bootstrap key (the name the audit trail records; web.Authorize put it
// in the request). "" when nobody is.
func (h *Base) Actor(c echo.Context) string {
	if id := IdentityOf(c); id != nil {
		return id.Actor.Name
	}
	return ""
}

// VoidSendWithReason voids the send id (already checked to be a UUID) for the reason
// the console's form or the API's body gave, as Actor(c): the one path of
// both surfaces. The reason is required, one line of plain text; an
// unknown send is a 404.
func (h *Base) VoidSendWithReason(c echo.Context, id, reason string) (db.Send, error) {
	r := strings.TrimSpace(reason)
	if r == "" {
		return db.Send{}, Invalid("reason", "reason is required: say why the send is voided")
	}
	if !IsPlainText(r) || utf8.RuneCountInString(r) > 200 {
		return db.Send{}, Invalid("reason", "reason must be at most 200 characters of plain text on one line")
	}
	s, err := h.Store.VoidSend(c.Request().Context(), id, r, h.Actor(c))
	if errors.Is(err, db.ErrNotFound) {
		return s, NotFound("send")
	}
	return s, err
}
