package handlers

import (
	"bytes"
	"fmt"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/views"
)

// What every HTML page shares: the frame around it (navigation, sign-out
// form, CSRF token) and rendering through a buffer.

// chrome is the frame data of an admin page.
func (h *Handlers) chrome(c echo.Context, title, section string) views.Chrome {
	signedIn, _ := c.Get(ctxSignedIn).(bool)
	return views.Chrome{Title: title, SignedIn: signedIn, CSRF: csrfToken(c), Section: section}
}

// csrfToken is the form token for the current request.
func csrfToken(c echo.Context) string {
	token, _ := c.Get(ctxCSRF).(string)
	return token
}

// render writes a templ component with status. It renders into a buffer
// first, so a rendering error can still become a proper error response.
func render(c echo.Context, status int, cmp templ.Component) error {
	var buf bytes.Buffer
	if err := cmp.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}
