package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/cost"
	"github.com/shortlinks/shortlinks/handlers/messages"
	"github.com/shortlinks/shortlinks/handlers/sms"
)

// Preview is one variant of a business's campaign SMS with its short link
// and what sending it costs. The page and the API both build it with
// (*Base).Preview, so they can never disagree.
type Preview struct {
	Business db.Business
	Variant  string
	Message  string
	Link     db.Link
	ShortURL string
	SMS      sms.Result
	Cost     cost.Amount
	Rate     cost.Rate
}

// Preview is the one code path behind the campaign pages (handlers/admin campaigns.go)
// and the preview-sms API (handlers/api api_campaigns.go): it gets or creates the
// business's site_preview link through the store's conflict-safe
// get-or-create, however many previews race, and renders the variant's
// message around it. Callers have checked that businessID is a UUID, each
// answering a malformed one in its own way (the page 404, the API 400).
func (h *Base) Preview(ctx context.Context, businessID, variant string) (Preview, error) {
	if !messages.Known(variant) {
		return Preview{}, UnknownVariant(variant)
	}
	b, err := h.Store.GetBusiness(ctx, businessID)
	if errors.Is(err, db.ErrNotFound) {
		return Preview{}, NotFound("business")
	}
	if err != nil {
		return Preview{}, err
	}
	dest, err := h.siteDestination(b)
	if err != nil {
		return Preview{}, err
	}
	link, _, err := h.Store.GetOrCreateLink(ctx, db.LinkRequest{
		DestinationURL: dest, LinkType: db.LinkTypeSitePreview, BusinessID: &b.ID, SiteID: b.SiteID,
	})
	if errors.Is(err, db.ErrReference) { // the business was deleted a moment ago
		return Preview{}, NotFound("business")
	}
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Business: b, Variant: variant, Link: link, ShortURL: h.ShortURL(link.Slug), Rate: h.Cfg.SMSRate}
	templates, err := h.MessageTemplates(ctx) // admin_templates.go: console edits over the defaults
	if err != nil {
		return Preview{}, err
	}
	p.Message, err = templates.Render(variant, messages.Fields{Name: b.Name, City: b.City, URL: p.ShortURL})
	if err != nil {
		return Preview{}, err
	}
	p.SMS = sms.Count(p.Message)
	p.Cost = p.Rate.Estimate(p.SMS.Segments)
	return p, nil
}

// siteDestination is the link destination for a business: its site URL,
// normalized exactly as POST /api/v1/links would (normalizeURL, validate.go), so a link created there
// for the same site is the very link the preview finds.
func (h *Base) siteDestination(b db.Business) (string, error) {
	if b.SiteURL == nil {
		return "", &APIError{Status: http.StatusUnprocessableEntity, Code: "no_site", Field: "business_id",
			Message: "this business has no site URL, so there is nothing to link to; add a site first"}
	}
	dest, err := h.NormalizeURL(*b.SiteURL)
	if err != nil {
		return "", &APIError{Status: http.StatusUnprocessableEntity, Code: "bad_site", Field: "business_id",
			Message: "this business's site URL cannot be linked to: " + err.Error()}
	}
	return dest, nil
}

func UnknownVariant(v string) *APIError {
	e := Invalid("variant", "unknown variant %q: use one of %s", v, strings.Join(messages.Variants, ", "))
	e.Allowed = messages.Variants
	return e
}

// NonGSM lists, as strings, the characters that forced UCS-2.
func (p Preview) NonGSM() []string {
	out := make([]string, len(p.SMS.NonGSM))
	for i, r := range p.SMS.NonGSM {
		out[i] = string(r)
	}
	return out
}

// MessageTemplates are the templates previews use: the configured defaults
// (SMS_TEMPLATE_* or the shipped texts) with the console's edits on top.
func (h *Base) MessageTemplates(ctx context.Context) (messages.Templates, error) {
	edited, err := h.Store.MessageTemplates(ctx)
	if err != nil {
		return nil, err
	}
	out := messages.Templates{}
	for _, v := range messages.Variants {
		out[v] = h.Cfg.SMSTemplates[v]
		if body, ok := edited[v]; ok {
			out[v] = body
		}
	}
	return out, nil
}
