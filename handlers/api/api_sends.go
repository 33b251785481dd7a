package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// sendJSON is a send as the API returns it.
type sendJSON struct {
	ID            string          `json:"id"`
	BusinessID    string          `json:"business_id"`
	Variant       string          `json:"variant"`
	Message       string          `json:"message"`
	ShortURL      string          `json:"short_url"`
	Slug          string          `json:"slug"`
	Encoding      string          `json:"encoding"`
	Segments      int             `json:"segments"`
	EstimatedCost campaign.Amount `json:"estimated_cost"`
	Currency      string          `json:"currency"`
	SentAt        time.Time       `json:"sent_at"`
	// TemplateVersion: the version of the variant's template rendered (0:
	// the configured default; null: recorded before versions were kept).
	TemplateVersion *int       `json:"template_version"`
	SentBy          *string    `json:"sent_by"`
	Clicks          int64      `json:"clicks"`
	FirstClickedAt  *time.Time `json:"first_clicked_at"`
	VoidedAt        *time.Time `json:"voided_at"`
	VoidReason      *string    `json:"void_reason"`
	Created         *bool      `json:"created,omitempty"`
}

func toSendJSON(s db.Send) sendJSON {
	return sendJSON{ID: s.ID, BusinessID: s.BusinessID, Variant: s.Variant, Message: s.Message,
		ShortURL: s.ShortURL, Slug: s.Slug, Encoding: s.Encoding, Segments: s.Segments,
		EstimatedCost: campaign.Amount(s.CostMicros), Currency: s.Currency, SentAt: s.SentAt,
		TemplateVersion: s.TemplateVersion, SentBy: s.SentBy, Clicks: s.Clicks, FirstClickedAt: s.FirstClickedAt,
		VoidedAt: s.VoidedAt, VoidReason: s.VoidReason}
}

// RecordSend is POST /api/v1/campaigns/sends: this business was sent this
// variant's message now. 201 for the request that recorded it, 200 with
// the same send for every repeat of its Idempotency-Key, 422 when the key
// came with another request.
func (h *Handlers) RecordSend(c echo.Context) error {
	var body campaign.Request
	if err := web.DecodeJSON(c, &body); err != nil {
		return err
	}
	req, err := campaign.ValidRequest(body)
	if err != nil {
		return err
	}
	idem, err := web.Idempotency(c, true, db.ResourceSend, req)
	if err != nil {
		return err
	}
	send, created, err := h.Campaign.RecordSendOnce(c.Request().Context(), req, idem)
	if err != nil {
		return err
	}
	out := toSendJSON(send)
	out.Created = &created
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, out)
}

// ListSends is GET /api/v1/campaigns/sends?business_id=&limit=&cursor=:
// sends, newest first, of one business or of all, a page at a time (pass
// next_cursor back as cursor).
func (h *Handlers) ListSends(c echo.Context) error {
	businessID := c.QueryParam("business_id")
	if businessID != "" && !db.IsUUID(businessID) {
		return web.Invalid("business_id", "business_id must be a UUID")
	}
	limit, err := web.LimitParam(c, 100)
	if err != nil {
		return err
	}
	cur, err := web.CursorParam(c, "sent")
	if err != nil {
		return err
	}
	sends, next, err := h.Store.SendsPage(c.Request().Context(), strings.ToLower(businessID), limit, cur)
	if errors.Is(err, db.ErrInvalidInput) {
		return web.Invalid("cursor", "cursor must be a next_cursor of this listing")
	}
	if err != nil {
		return err
	}
	out := struct {
		Sends      []sendJSON `json:"sends"`
		NextCursor string     `json:"next_cursor,omitempty"`
	}{Sends: make([]sendJSON, len(sends))}
	for i, s := range sends {
		out.Sends[i] = toSendJSON(s)
	}
	if next != nil {
		out.NextCursor = next.String()
	}
	return c.JSON(http.StatusOK, out)
}
