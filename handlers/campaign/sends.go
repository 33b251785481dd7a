package campaign

import (
	"context"
	"errors"
	"strings"

	"github.com/shortlinks/shortlinks/db"
)

// Request is the body of POST /api/v1/campaigns/sends and of
// POST /api/v1/campaigns/preview-sms (a business and a variant), and the
// canonical form of a send request whatever its origin (API or the
// preview page's button), so one key means one send either way.
type Request struct {
	BusinessID *string `json:"business_id"`
	Variant    *string `json:"variant"`
}

// ValidRequest checks a preview or send request and returns it canonical
// (the business id in lower case).
func ValidRequest(b Request) (Request, error) {
	switch {
	case b.BusinessID == nil || *b.BusinessID == "":
		return b, invalid("business_id", "business_id is required")
	case !db.IsUUID(*b.BusinessID):
		return b, invalid("business_id", "business_id must be a UUID")
	case b.Variant == nil || *b.Variant == "":
		e := invalid("variant", "variant is required: use one of %s", joinVariants())
		e.Allowed = Variants()
		return b, e
	case !Known(*b.Variant):
		return b, UnknownVariant(*b.Variant)
	}
	id := strings.ToLower(*b.BusinessID)
	return Request{BusinessID: &id, Variant: b.Variant}, nil
}

func joinVariants() string { return strings.Join(Variants(), ", ") }

// RecordSendOnce records a send once per key, with the message exactly as
// the preview shows it. A repeated key is answered from the store in one
// round trip; only a new key builds the preview (possibly creating the
// link) and inserts, and the insert is itself safe against racing repeats.
// Who records it is the context's actor (db.WithActor). The send records the version
// of the variant's template it was rendered from. A business that opted
// out (db.ErrOptedOut), or whose sent link is deactivated (Conflict), gets
// no send.
func (s *Service) RecordSendOnce(ctx context.Context, req Request, idem db.Idempotency) (db.Send, bool, error) {
	send, err := s.Store.FindSendByKey(ctx, idem)
	if err == nil || !errors.Is(err, db.ErrNotFound) {
		return send, false, err
	}
	p, err := s.Preview(ctx, *req.BusinessID, *req.Variant)
	var cerr *Error
	if errors.As(err, &cerr) && cerr.Kind == NotFound {
		return db.Send{}, false, invalid("business_id", "business_id does not exist")
	}
	if err != nil {
		return db.Send{}, false, err
	}
	if p.Deactivated != nil {
		return db.Send{}, false, &Error{Kind: Conflict, Code: "link_deactivated", Field: "business_id",
			Message: "the link sent to this business on " + p.Deactivated.SentAt.UTC().Format("2006-01-02 15:04 UTC") + " is deactivated (recipients see the expired page); reactivate it before sending again"}
	}
	versions, err := s.Store.MessageTemplateVersions(ctx)
	if err != nil {
		return db.Send{}, false, err
	}
	send, created, err := s.Store.RecordSend(ctx, db.NewSend{
		BusinessID: p.Business.ID, Variant: p.Variant, Message: p.Message, LinkID: p.Link.ID,
		Slug: p.Link.Slug, ShortURL: p.ShortURL, Encoding: p.SMS.Encoding, Segments: p.SMS.Segments,
		CostMicros: int64(p.Cost), Currency: p.Rate.Currency, TemplateVersion: versions[p.Variant],
	}, idem)
	if errors.Is(err, db.ErrReference) { // the business was deleted a moment ago
		return db.Send{}, false, invalid("business_id", "business_id does not exist")
	}
	return send, created, err
}
