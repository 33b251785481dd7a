package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// DuplicateHealth is GET /api/v1/health/duplicates.
func (h *Handlers) DuplicateHealth(c echo.Context) error {
	out, err := h.Health(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
