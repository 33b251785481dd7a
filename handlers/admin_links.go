package handlers

import "github.com/labstack/echo/v4"

// linkPages registers the link listing and detail pages under /admin.
func (h *Handlers) linkPages(admin *echo.Group) {}
