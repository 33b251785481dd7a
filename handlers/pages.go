package handlers

import (
	"bytes"
	"fmt"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/access"
	"github.com/shortlinks/shortlinks/views"
)

// What every HTML page shares: the frame around it (navigation, sign-out
// form, CSRF token) and rendering through a buffer.

// chrome is the frame data of an admin page.
func (h *Handlers) chrome(c echo.Context, title, section string) views.Chrome {
	ch := views.Chrome{Title: title, CSRF: csrfToken(c), Section: section}
	if id := identityOf(c); id != nil && id.sess != nil {
		ch.SignedIn, ch.User, ch.Role = true, id.sess.user.Email, id.role
		ch.Can = permissionsOf(id.role)
	}
	return ch
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

// permissionsOf is the set of permissions role grants, by name, for the
// views to show only the actions the role can take.
func permissionsOf(role string) map[string]bool {
	can := map[string]bool{}
	for _, p := range access.All() {
		if access.Allows(role, p) {
			can[string(p)] = true
		}
	}
	return can
}
