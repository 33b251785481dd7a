package handlers

import "github.com/labstack/echo/v4"

// campaignPages registers the campaign preview pages under /admin.
func (h *Handlers) campaignPages(admin *echo.Group) {}
