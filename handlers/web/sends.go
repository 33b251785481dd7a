package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/messages"
)

// CampaignRequest is the body of POST /api/v1/campaigns/sends and of
// POST /api/v1/campaigns/preview-sms (a business and a variant), and the
// canonical form of a send request whatever its origin (API or the
// preview page's button), so one key means one send either way.
type CampaignRequest struct {
	BusinessID *string `json:"business_id"`
	Variant    *string `json:"variant"`
}

// ValidCampaignRequest checks a preview or send request and returns it
// canonical (the business id in lower case).
func ValidCampaignRequest(b CampaignRequest) (CampaignRequest, error) {
	switch {
	case b.BusinessID == nil || *b.BusinessID == "":
		return b, Invalid("business_id", "business_id is required")
	case !db.IsUUID(*b.BusinessID):
		return b, Invalid("business_id", "business_id must be a UUID")
	case b.Variant == nil || *b.Variant == "":
		e := Invalid("variant", "variant is required: use one of %s", strings.Join(messages.Variants, ", "))
		e.Allowed = messages.Variants
		return b, e
	case !messages.Known(*b.Variant):
		return b, UnknownVariant(*b.Variant)
	}
	id := strings.ToLower(*b.BusinessID)
	return CampaignRequest{BusinessID: &id, Variant: b.Variant}, nil
}

// RecordSendOnce records a send once per key, with the message exactly as
// the preview shows it. A repeated key is answered from the store in one
// round trip; only a new key builds the preview (possibly creating the
// link) and inserts, and the insert is itself safe against racing repeats.
func (h *Base) RecordSendOnce(ctx context.Context, req CampaignRequest, idem db.Idempotency) (db.Send, bool, error) {
	send, err := h.Store.FindSendByKey(ctx, idem)
	if err == nil || !errors.Is(err, db.ErrNotFound) {
		return send, false, err
	}
	p, err := h.Preview(ctx, *req.BusinessID, *req.Variant)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return db.Send{}, false, Invalid("business_id", "business_id does not exist")
	}
	if err != nil {
		return db.Send{}, false, err
	}
	send, created, err := h.Store.RecordSend(ctx, db.NewSend{
		BusinessID: p.Business.ID, Variant: p.Variant, Message: p.Message, LinkID: p.Link.ID,
		Slug: p.Link.Slug, ShortURL: p.ShortURL, Encoding: p.SMS.Encoding, Segments: p.SMS.Segments,
		CostMicros: int64(p.Cost), Currency: p.Rate.Currency,
	}, idem)
	if errors.Is(err, db.ErrReference) { // the business was deleted a moment ago
		return db.Send{}, false, Invalid("business_id", "business_id does not exist")
	}
	return send, created, err
}
