package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/cost"
	"github.com/shortlinks/shortlinks/handlers/messages"
)

// campaignRequest is the body of POST /api/v1/campaigns/sends and of
// POST /api/v1/campaigns/preview-sms (a business and a variant), and the
// canonical form of a send request whatever its origin (API or the
// preview page's button), so one key means one send either way.
type campaignRequest struct {
	BusinessID *string `json:"business_id"`
	Variant    *string `json:"variant"`
}

// sendJSON is a send as the API returns it.
type sendJSON struct {
	ID            string      `json:"id"`
	BusinessID    string      `json:"business_id"`
	Variant       string      `json:"variant"`
	Message       string      `json:"message"`
	ShortURL      string      `json:"short_url"`
	Slug          string      `json:"slug"`
	Encoding      string      `json:"encoding"`
	Segments      int         `json:"segments"`
	EstimatedCost cost.Amount `json:"estimated_cost"`
	Currency      string      `json:"currency"`
	SentAt        time.Time   `json:"sent_at"`
	CreatedBy     *string     `json:"created_by"` // who recorded it
	Created       *bool       `json:"created,omitempty"`
}

func toSendJSON(s db.Send) sendJSON {
	return sendJSON{ID: s.ID, BusinessID: s.BusinessID, Variant: s.Variant, Message: s.Message,
		ShortURL: s.ShortURL, Slug: s.Slug, Encoding: s.Encoding, Segments: s.Segments,
		EstimatedCost: cost.Amount(s.CostMicros), Currency: s.Currency, SentAt: s.SentAt, CreatedBy: s.CreatedBy}
}

// RecordSend is POST /api/v1/campaigns/sends: this business was sent this
// variant's message now. 201 for the request that recorded it, 200 with
// the same send for every repeat of its Idempotency-Key, 422 when the key
// came with another request.
func (h *Handlers) RecordSend(c echo.Context) error {
	var body campaignRequest
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	req, err := validCampaignRequest(body)
	if err != nil {
		return err
	}
	idem, err := idempotency(c, true, resourceSend, req)
	if err != nil {
		return err
	}
	send, created, err := h.recordSend(c.Request().Context(), req, idem)
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

// validCampaignRequest checks a preview or send request and returns it
// canonical (the business id in lower case).
func validCampaignRequest(b campaignRequest) (campaignRequest, error) {
	switch {
	case b.BusinessID == nil || *b.BusinessID == "":
		return b, invalid("business_id", "business_id is required")
	case !isUUID(*b.BusinessID):
		return b, invalid("business_id", "business_id must be a UUID")
	case b.Variant == nil || *b.Variant == "":
		e := invalid("variant", "variant is required: use one of %s", strings.Join(messages.Variants, ", "))
		e.Allowed = messages.Variants
		return b, e
	case !messages.Known(*b.Variant):
		return b, unknownVariant(*b.Variant)
	}
	id := strings.ToLower(*b.BusinessID)
	return campaignRequest{BusinessID: &id, Variant: b.Variant}, nil
}

// recordSend records a send once per key, with the message exactly as
// the preview shows it. A repeated key is answered from the store in one
// round trip; only a new key builds the preview (possibly creating the
// link) and inserts, and the insert is itself safe against racing repeats.
func (h *Handlers) recordSend(ctx context.Context, req campaignRequest, idem db.Idempotency) (db.Send, bool, error) {
	send, err := h.store.FindSendByKey(ctx, idem)
	if err == nil || !errors.Is(err, db.ErrNotFound) {
		return send, false, err
	}
	p, err := h.preview(ctx, *req.BusinessID, *req.Variant)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return db.Send{}, false, invalid("business_id", "business_id does not exist")
	}
	if err != nil {
		return db.Send{}, false, err
	}
	send, created, err := h.store.RecordSend(ctx, db.NewSend{
		BusinessID: p.Business.ID, Variant: p.Variant, Message: p.Message, LinkID: p.Link.ID,
		Slug: p.Link.Slug, ShortURL: p.ShortURL, Encoding: p.SMS.Encoding, Segments: p.SMS.Segments,
		CostMicros: int64(p.Cost), Currency: p.Rate.Currency,
	}, idem)
	if errors.Is(err, db.ErrReference) { // the business was deleted a moment ago
		return db.Send{}, false, invalid("business_id", "business_id does not exist")
	}
	return send, created, err
}

// ListSends is GET /api/v1/campaigns/sends?business_id=&limit=: sends,
// newest first, of one business or of all.
func (h *Handlers) ListSends(c echo.Context) error {
	businessID := c.QueryParam("business_id")
	if businessID != "" && !isUUID(businessID) {
		return invalid("business_id", "business_id must be a UUID")
	}
	limit, err := limitParam(c, 100)
	if err != nil {
		return err
	}
	sends, err := h.store.ListSends(c.Request().Context(), strings.ToLower(businessID), limit)
	if err != nil {
		return err
	}
	out := struct {
		Sends []sendJSON `json:"sends"`
	}{Sends: make([]sendJSON, len(sends))}
	for i, s := range sends {
		out.Sends[i] = toSendJSON(s)
	}
	return c.JSON(http.StatusOK, out)
}
