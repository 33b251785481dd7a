package campaign

import (
	"context"
	"errors"

	"github.com/shortlinks/shortlinks/db"
)

// Preview is one variant of a business's campaign SMS with its short link
// and what sending it costs. The page and the API both build it with
// (*Service).Preview, so they can never disagree.
type Preview struct {
	Business db.Business
	Variant  string
	Message  string
	Link     db.Link
	ShortURL string
	SMS      Result
	Cost     Amount
	Rate     Rate
}

// Preview is the one code path behind the campaign pages (handlers/admin
// campaigns.go), the preview-sms API (handlers/api api_campaigns.go) and
// every send (sends.go), in the order a reader follows it:
//
//  1. the business (db/businesses.go), and its site URL as a link
//     destination, normalized as POST /api/v1/links would;
//  2. its site_preview link through the store's conflict-safe get-or-create
//     (db/links.go), however many previews race;
//  3. the templates: the console's edits (db/templates.go) over the
//     configured ones, and the variant's text rendered around the short URL
//     (templates.go);
//  4. segments and encoding (segments.go), then the price (cost.go).
//
// Callers have checked that businessID is a UUID, each answering a
// malformed one in its own way (the page 404, the API 400).
func (s *Service) Preview(ctx context.Context, businessID, variant string) (Preview, error) {
	if !Known(variant) {
		return Preview{}, UnknownVariant(variant)
	}
	b, err := s.Store.GetBusiness(ctx, businessID)
	if errors.Is(err, db.ErrNotFound) {
		return Preview{}, errNoBusiness()
	}
	if err != nil {
		return Preview{}, err
	}
	dest, err := s.siteDestination(b)
	if err != nil {
		return Preview{}, err
	}
	link, _, err := s.Store.GetOrCreateLink(ctx, db.LinkRequest{
		DestinationURL: dest, LinkType: db.LinkTypeSitePreview, BusinessID: &b.ID, SiteID: b.SiteID,
	})
	if errors.Is(err, db.ErrReference) { // the business was deleted a moment ago
		return Preview{}, errNoBusiness()
	}
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Business: b, Variant: variant, Link: link, ShortURL: s.ShortURL(link.Slug), Rate: s.Rate}
	templates, err := s.MessageTemplates(ctx)
	if err != nil {
		return Preview{}, err
	}
	p.Message, err = templates.Render(variant, Fields{Name: b.Name, City: b.City, URL: p.ShortURL})
	if err != nil {
		return Preview{}, err
	}
	p.SMS = Count(p.Message)
	p.Cost = p.Rate.Estimate(p.SMS.Segments)
	return p, nil
}

// siteDestination is the link destination for a business: its site URL,
// normalized exactly as POST /api/v1/links would, so a link created there
// for the same site is the very link the preview finds.
func (s *Service) siteDestination(b db.Business) (string, error) {
	if b.SiteURL == nil {
		return "", &Error{Kind: Unusable, Code: "no_site", Field: "business_id",
			Message: "this business has no site URL, so there is nothing to link to; add a site first"}
	}
	dest, err := s.Destination(*b.SiteURL)
	if err != nil {
		return "", &Error{Kind: Unusable, Code: "bad_site", Field: "business_id",
			Message: "this business's site URL cannot be linked to: " + err.Error()}
	}
	return dest, nil
}

// NonGSM lists, as strings, the characters that forced UCS-2.
func (p Preview) NonGSM() []string {
	out := make([]string, len(p.SMS.NonGSM))
	for i, r := range p.SMS.NonGSM {
		out[i] = string(r)
	}
	return out
}

// MessageTemplates are the templates previews use: the configured ones
// (SMS_TEMPLATE_* or the shipped texts) with the console's edits on top.
func (s *Service) MessageTemplates(ctx context.Context) (Templates, error) {
	edited, err := s.Store.MessageTemplates(ctx)
	if err != nil {
		return nil, err
	}
	out := Templates{}
	for _, v := range Variants() {
		out[v] = s.Templates[v]
		if body, ok := edited[v]; ok {
			out[v] = body
		}
	}
	return out, nil
}
