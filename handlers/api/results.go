package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// CampaignResults is GET /api/v1/campaigns/results?since=&until=: per
// variant, what its sends (sent_at in [since, until)) achieved.
func (h *Handlers) CampaignResults(c echo.Context) error {
	r, err := h.Results(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}
