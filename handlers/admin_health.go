package handlers

import "github.com/labstack/echo/v4"

// healthPages registers the duplicate-health dashboard under /admin.
func (h *Handlers) healthPages(admin *echo.Group) {}
