package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// previewJSON is a preview as the API returns it.
type previewJSON struct {
	BusinessID    string          `json:"business_id"`
	Variant       string          `json:"variant"`
	Message       string          `json:"message"`
	ShortURL      string          `json:"short_url"`
	Slug          string          `json:"slug"`
	Characters    int             `json:"characters"`
	Units         int             `json:"units"` // septets (GSM-7) or UTF-16 code units (UCS-2)
	Encoding      string          `json:"encoding"`
	Segments      int             `json:"segments"`
	PerSegment    int             `json:"per_segment"`
	NonGSM        []string        `json:"non_gsm_characters"`
	EstimatedCost campaign.Amount `json:"estimated_cost"`
	Currency      string          `json:"currency"`
}

// PreviewSMS is POST /api/v1/campaigns/preview-sms: the message of one
// variant for a business, with its (single, shared) short link and cost.
func (h *Handlers) PreviewSMS(c echo.Context) error {
	var body campaign.Request
	if err := web.DecodeJSON(c, &body); err != nil {
		return err
	}
	req, err := campaign.ValidRequest(body)
	if err != nil {
		return err
	}
	p, err := h.Campaign.Preview(c.Request().Context(), *req.BusinessID, *req.Variant)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPreviewJSON(p))
}

func toPreviewJSON(p campaign.Preview) previewJSON {
	return previewJSON{
		BusinessID: p.Business.ID, Variant: p.Variant, Message: p.Message,
		ShortURL: p.ShortURL, Slug: p.Link.Slug,
		Characters: p.SMS.Characters, Units: p.SMS.Units, Encoding: p.SMS.Encoding,
		Segments: p.SMS.Segments, PerSegment: p.SMS.PerSegment, NonGSM: p.NonGSM(),
		EstimatedCost: p.Cost, Currency: p.Rate.Currency,
	}
}
