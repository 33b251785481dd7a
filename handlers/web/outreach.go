package web

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
)

// VoidSendWithReason voids the send id (already checked to be a UUID) for the reason
// the console's form or the API's body gave, as the request's actor: the one path of
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
	s, err := h.Store.VoidSend(c.Request().Context(), id, r)
	if errors.Is(err, db.ErrNotFound) {
		return s, NotFound("send")
	}
	return s, err
}
