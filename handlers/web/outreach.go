package web

import (
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
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

// VoidReason checks the reason a send is voided for: required, one line.
func VoidReason(raw string) (string, error) {
	r := strings.TrimSpace(raw)
	if r == "" {
		return "", Invalid("reason", "reason is required: say why the send is voided")
	}
	if !IsPlainText(r) || utf8.RuneCountInString(r) > 200 {
		return "", Invalid("reason", "reason must be at most 200 characters of plain text on one line")
	}
	return r, nil
}
