package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

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
// actor is who records it ("" when unknown). The send records the version
// of the variant's template it was rendered from. A business that opted
// out, or whose sent link is deactivated, gets no send (409).
func (h *Base) RecordSendOnce(ctx context.Context, req CampaignRequest, idem db.Idempotency, actor string) (db.Send, bool, error) {
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
	if p.Deactivated != nil {
		return db.Send{}, false, &APIError{Status: http.StatusConflict, Code: "link_deactivated", Field: "business_id",
			Message: "the link sent to this business on " + p.Deactivated.SentAt.UTC().Format("2006-01-02 15:04 UTC") + " is deactivated (recipients see the expired page); reactivate it before sending again"}
	}
	versions, err := h.Store.MessageTemplateVersions(ctx)
	if err != nil {
		return db.Send{}, false, err
	}
	send, created, err := h.Store.RecordSend(ctx, db.NewSend{
		BusinessID: p.Business.ID, Variant: p.Variant, Message: p.Message, LinkID: p.Link.ID,
		Slug: p.Link.Slug, ShortURL: p.ShortURL, Encoding: p.SMS.Encoding, Segments: p.SMS.Segments,
		CostMicros: int64(p.Cost), Currency: p.Rate.Currency, TemplateVersion: versions[p.Variant], SentBy: actor,
	}, idem)
	if errors.Is(err, db.ErrReference) { // the business was deleted a moment ago
		return db.Send{}, false, Invalid("business_id", "business_id does not exist")
	}
	return send, created, err
}

// Actor is who is acting, for sends' "by whom" and audit rows: the
// signed-in account's name once accounts exist (issue 19); "" until then.
func (h *Base) Actor(c echo.Context) string { return "" }

// VoidReason checks the reason a send is voided for: required, one line.
func VoidReason(raw string) (string, error) {
	r := strings.TrimSpace(raw)
	if r == "" {
		return "", Invalid("reason", "reason is required: say why the send is voided")
	}
	if !IsPlainText(r) || utf8.RuneCountInString(r) > 200 {
		return "", Invalid("reason", "reason must be at most 200 characters of plain text on one line")
	}
	return r, nil
}
