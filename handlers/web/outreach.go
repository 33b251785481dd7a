package web

import (
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Actor is who is acting, for sends' "by whom": the console's account
// (ADMIN_USER) when signed in, "API token" on the JSON API. Per-person
// accounts (issue 19) will name the person instead.
func (h *Base) Actor(c echo.Context) string {
	if signedIn, _ := c.Get(CtxSignedIn).(bool); signedIn {
		return h.Cfg.AdminUser
	}
	if strings.HasPrefix(c.Path(), "/api/") {
		return "API token"
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
