package web

import (
	"bytes"
	"fmt"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/views"
)

// Context keys set by the admin middleware (handlers/admin: admin_auth.go)
// and read by every page's frame.
const (
	CtxCSRF     = "csrf_token"
	CtxSignedIn = "signed_in"
	CtxSession  = "session"
)

// What every HTML page shares: the frame around it (navigation, sign-out
// form, CSRF token) and rendering through a buffer.

// Chrome is the frame data of an admin page.
func (h *Base) Chrome(c echo.Context, title, section string) views.Chrome {
	signedIn, _ := c.Get(CtxSignedIn).(bool)
	return views.Chrome{Title: title, SignedIn: signedIn, CSRF: CSRFToken(c), Section: section}
}

// CSRFToken is the form token for the current request.
func CSRFToken(c echo.Context) string {
	token, _ := c.Get(CtxCSRF).(string)
	return token
}

// render writes a templ component with status. It renders into a buffer
// first, so a rendering error can still become a proper error response.
func Render(c echo.Context, status int, cmp templ.Component) error {
	var buf bytes.Buffer
	if err := cmp.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}
