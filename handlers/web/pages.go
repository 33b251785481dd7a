package web

import (
	"bytes"
	"fmt"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/access"
	"github.com/shortlinks/shortlinks/views"
)

// CtxCSRF is the context key of the form token, set by the admin
// middleware (handlers/admin: admin_auth.go) and read by every page's frame.
const CtxCSRF = "csrf_token"

// What every HTML page shares: the frame around it (navigation, sign-out
// form, CSRF token) and rendering through a buffer.

// Chrome is the frame data of an admin page.
func (h *Base) Chrome(c echo.Context, title, section string) views.Chrome {
	ch := views.Chrome{Title: title, CSRF: CSRFToken(c), Section: section}
	if id := IdentityOf(c); id != nil && id.Session != nil {
		ch.SignedIn, ch.User, ch.Role = true, id.Session.User.Email, id.Role
		ch.Can = permissionsOf(id.Role)
	}
	return ch
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
