package admin

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// MarkSentForm is POST /admin/campaigns/:id/sends, the preview page's
// "Mark as sent" button (CSRF-checked like every admin form). The form
// carries an idempotency key rendered with the page, so a double click
// records one send; the answer sends the browser back to the page (303),
// which then says when the business was sent which variant.
func (h *Handlers) MarkSentForm(c echo.Context) error {
	id, variant := c.Param("id"), c.FormValue("variant")
	if !db.IsUUID(id) {
		return web.NotFound("business")
	}
	req, err := campaign.ValidRequest(campaign.Request{BusinessID: &id, Variant: &variant})
	if err != nil {
		return err
	}
	key := c.FormValue("idempotency_key")
	if !web.ValidIdempotencyKey(key) {
		return web.Invalid("idempotency_key", "the form is incomplete; reload the page and try again")
	}
	idem := web.IdempotencyOf(key, req)
	ctx := c.Request().Context()
	send, created, err := h.Campaign.RecordSendOnce(ctx, req, idem)
	if err != nil {
		return err
	}
	if created {
		h.Log.Info("send recorded in the admin console", "business_id", id, "variant", variant, "send_id", send.ID)
	}
	if c.FormValue("queue") != "1" {
		return c.Redirect(http.StatusSeeOther, campaignPageHref(id, variant))
	}
	// In the queue the next business opens by itself, on the same tab.
	b, err := h.Store.GetBusiness(ctx, id)
	if err != nil {
		return err
	}
	next, err := h.Store.NextInQueue(ctx, b.Name, b.ID)
	if errors.Is(err, db.ErrNotFound) {
		return c.Redirect(http.StatusSeeOther, "/admin/campaigns?status="+db.OutreachSent)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, campaignHref(next, variant, true)+"&sent="+send.ID)
}

// campaignOutcome is what the campaign page says about a business's
// results: totals over its links, sharing, its latest send.
func (h *Handlers) campaignOutcome(ctx context.Context, businessID, activeSlug string) (views.CampaignOutcome, error) {
	totals, err := h.Store.BusinessTotals(ctx, businessID)
	if err != nil {
		return views.CampaignOutcome{}, err
	}
	o := views.CampaignOutcome{Clicks: totals.ClickCount, Previews: totals.PreviewCount, Links: len(totals.Links)}
	for _, l := range totals.Links {
		if l.Slug == activeSlug && l.Businesses > 1 {
			o.SharedWith = l.Businesses - 1
		}
	}
	sends, err := h.Store.ListSends(ctx, businessID, 1)
	if err != nil {
		return views.CampaignOutcome{}, err
	}
	if len(sends) > 0 {
		s := sends[0]
		o.LastSent, o.LastSentISO = displayTime(s.SentAt), s.SentAt.UTC().Format("2006-01-02T15:04:05Z07:00")
		if s.SentBy != nil {
			o.LastSentBy = *s.SentBy
		}
		o.LastVariant = campaign.DisplayName(s.Variant)
	}
	return o, nil
}
