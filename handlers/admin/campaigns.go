package admin

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/access"
	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/phone"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// The campaign pages: the listing, one business's page with its variant
// tabs, and the panel a tab click swaps in. The preview itself is built by
// handlers/campaign (Service.Preview, preview.go), the entry point the API
// (api_campaigns.go) and sends call too; this file only shapes it for the
// page.

// campaignPageSize is how many businesses the listing shows per page.
const campaignPageSize = 25

// CampaignsPage is GET /admin/campaigns?q=&limit=&cursor=: businesses ready
// for outreach, searchable by name or city, paginated by cursor.
func (h *Handlers) CampaignsPage(c echo.Context) error {
	q, err := web.SearchParam(c, "q")
	if err != nil {
		return err
	}
	cur, err := web.CursorParam(c, "name")
	if err != nil {
		return err
	}
	limit, err := web.LimitParam(c, campaignPageSize)
	if err != nil {
		return err
	}
	status, err := outreachStatusParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := db.CampaignFilter{Query: q, Limit: limit, Cursor: cur, Status: status}
	page, err := h.Store.ListCampaignBusinesses(ctx, f)
	if err != nil {
		return err
	}
	total, err := h.Store.CountCampaignBusinesses(ctx, f)
	if err != nil {
		return err
	}
	ids := make([]string, len(page.Businesses))
	for i, b := range page.Businesses {
		ids[i] = b.ID
	}
	// Totals over every link of each business on the page (db/business_totals.go).
	counts, err := h.Store.CountsByBusiness(ctx, ids)
	if err != nil {
		return err
	}
	list := views.CampaignList{Query: q, Status: status, Statuses: statusOptions(status),
		Rows: make([]views.CampaignRow, 0, len(page.Businesses))}
	if left, err := h.Store.CountQueue(ctx); err != nil {
		return err
	} else if left.N > 0 {
		list.QueueHref, list.QueueLeft = "/admin/campaigns/queue", left.N
	}
	for _, b := range page.Businesses {
		row := views.CampaignRow{ID: b.ID, Name: b.Name, City: b.City, Href: "/admin/campaigns/" + b.ID,
			SiteURL: web.Deref(b.SiteURL), HasLink: b.LinkSlug != nil, Clicks: counts[b.ID].Clicks, Previews: counts[b.ID].Previews,
			Phone: b.Phone, PhoneText: phone.Display(b.Phone), Outreach: outreachBadge(b.Business)}
		if b.LinkSlug != nil {
			row.ShortURL = h.ShortURL(*b.LinkSlug)
		}
		list.Rows = append(list.Rows, row)
	}
	if total.N > 0 { // the empty state says it; a pager would only add noise
		list.Pager = pagerFor(page.Prev, page.Next, func(cur *db.Cursor) string { return campaignListHref(q, status, f.Limit, cur) },
			countText(total)+" "+views.Plural(total.N, "business", "businesses"))
	}
	return web.Render(c, http.StatusOK, views.CampaignsPage(h.Chrome(c, "Campaigns", "campaigns"), list))
}

// campaignListHref is the URL of the campaign listing with a search, a page size and a
// cursor, leaving out defaults.
func campaignListHref(q, status string, limit int, cur *db.Cursor) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if status != "" {
		v.Set("status", status)
	}
	if limit != campaignPageSize {
		v.Set("limit", strconv.Itoa(limit))
	}
	if cur != nil {
		v.Set("cursor", cur.String())
	}
	if len(v) == 0 {
		return "/admin/campaigns"
	}
	return "/admin/campaigns?" + v.Encode()
}

// CampaignPage is GET /admin/campaigns/:id?variant=: the whole page, which
// is also what the tabs link to when JavaScript is off.
func (h *Handlers) CampaignPage(c echo.Context) error {
	d, err := h.campaignDetail(c)
	if err != nil {
		return err
	}
	// The tab fragments leave these out: they do not depend on the variant.
	if d.Outcome, err = h.campaignOutcome(c.Request().Context(), c.Param("id"), d.Panel.Slug); err != nil {
		return err
	}
	if err = h.outreachDetail(c, &d); err != nil { // outreach_pages.go
		return err
	}
	return web.Render(c, http.StatusOK, views.CampaignPage(h.Chrome(c, d.Name, "campaigns"), d))
}

// CampaignPreviewFragment is GET /admin/campaigns/:id/preview?variant=: the
// panel that htmx swaps in. Opened directly (not by htmx) it
// sends the browser to the whole page instead of a bare fragment.
func (h *Handlers) CampaignPreviewFragment(c echo.Context) error {
	if c.Request().Header.Get("HX-Request") != "true" {
		return c.Redirect(http.StatusSeeOther, campaignHref(c.Param("id"), c.QueryParam("variant"), c.QueryParam("queue") == "1"))
	}
	d, err := h.campaignDetail(c)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.CampaignPreviewFragment(d.Panel))
}

// campaignDetail builds the page's view model from the campaign rules'
// one entry point (handlers/campaign preview.go), the API's code path too.
func (h *Handlers) campaignDetail(c echo.Context) (views.CampaignDetail, error) {
	id := c.Param("id")
	if !db.IsUUID(id) {
		return views.CampaignDetail{}, web.NotFound("business")
	}
	variant := c.QueryParam("variant")
	if variant == "" {
		variant = campaign.Friendly
	}
	p, err := h.Campaign.Preview(c.Request().Context(), id, variant)
	if err != nil {
		return views.CampaignDetail{}, err
	}
	queue := c.QueryParam("queue") == "1"
	d := views.CampaignDetail{
		Name: p.Business.Name, City: p.Business.City, SiteURL: web.Deref(p.Business.SiteURL),
		Status: p.Business.Status, NotReady: p.Business.Status != db.StatusReadyForOutreach,
		Panel: previewPanel(c, p), EditHref: "/admin/businesses/" + p.Business.ID + "/edit",
		Phone: p.Business.Phone, PhoneText: phone.Display(p.Business.Phone), Outreach: outreachBadge(p.Business),
	}
	d.Panel.Send.Queue = queue
	switch {
	case p.Business.OptedOutAt != nil:
		d.Panel.Blocked = "This business opted out (replied STOP): it cannot be texted or marked as sent."
	case p.Deactivated != nil:
		d.Panel.Blocked = "The link in this message is deactivated: reactivate it (above) before sending again."
		d.Inactive = &views.LinkNotice{SentOn: displayTime(p.Deactivated.SentAt), ShortURL: p.ShortURL}
		if web.IdentityOf(c).Can(access.LinksManage) {
			d.Inactive.ReactivateAction, d.Inactive.CSRF = "/admin/campaigns/"+p.Business.ID+"/reactivate", web.CSRFToken(c)
		}
	case p.Business.Phone != "" && web.IdentityOf(c).Can(access.SendsRecord):
		// Phones saved before they were kept in E.164 are read by the same
		// rule as a form's; one that still does not read as a number gets
		// no link (an sms: URI with spaces or words in it misdials).
		if num, err := h.NormalizePhone(p.Business.Phone); err == nil {
			d.Panel.TextHref = phone.SMSHref(num, p.Message)
		}
	}
	for _, v := range campaign.Variants() {
		d.Tabs = append(d.Tabs, views.VariantTab{
			Variant: v, Label: campaign.DisplayName(v), Active: v == variant,
			Href:         campaignHref(p.Business.ID, v, queue),
			FragmentHref: campaignPanelHref(p.Business.ID, v, queue),
		})
	}
	return d, nil
}

// campaignPageHref is the URL of one business's campaign page, showing
// variant's tab (the default tab when variant is empty).
func campaignPageHref(id, variant string) string {
	if variant == "" {
		return "/admin/campaigns/" + url.PathEscape(id)
	}
	return "/admin/campaigns/" + url.PathEscape(id) + "?variant=" + url.QueryEscape(variant)
}

// campaignHref is campaignPageHref inside the outreach queue when queue.
func campaignHref(id, variant string, queue bool) string {
	if !queue {
		return campaignPageHref(id, variant)
	}
	return "/admin/campaigns/" + url.PathEscape(id) + "?queue=1&variant=" + url.QueryEscape(variant)
}

// campaignPanelHref is the URL of the preview panel a tab click swaps in.
func campaignPanelHref(id, variant string, queue bool) string {
	h := "/admin/campaigns/" + url.PathEscape(id) + "/preview?variant=" + url.QueryEscape(variant)
	if queue {
		h += "&queue=1"
	}
	return h
}

// previewPanel is the view model of a preview: the message, its count and
// cost, and the "Mark as sent" form (campaign_sends.go records it).
func previewPanel(c echo.Context, p campaign.Preview) views.PreviewPanel {
	return views.PreviewPanel{
		Variant: p.Variant, VariantName: campaign.DisplayName(p.Variant), Message: p.Message,
		ShortURL: p.ShortURL, Slug: p.Link.Slug, MessageCount: messageCount(p.SMS, p.Rate),
		Send: sendFormFor(c, p.Business.ID, p.Variant),
	}
}

// messageCount shapes a count for the pages: the preview panel and the
// template editor's live counter show the very same figures.
func messageCount(r campaign.Result, rate campaign.Rate) views.MessageCount {
	unit := "septets"
	if r.Encoding == campaign.UCS2 {
		unit = "UTF-16 units"
	}
	nonGSM := make([]string, len(r.NonGSM))
	for i, c := range r.NonGSM {
		nonGSM[i] = string(c)
	}
	return views.MessageCount{
		Characters: r.Characters, Units: r.Units, UnitName: unit, Encoding: r.Encoding,
		Segments: r.Segments, PerSegment: r.PerSegment, NonGSM: strings.Join(nonGSM, " "),
		Cost: rate.Estimate(r.Segments).String(), Rate: rate.PerSegment.String(), Currency: rate.Currency,
	}
}

// sendFormFor is the "Mark as sent" form of a business's variant panel;
// none for a role that cannot record sends.
func sendFormFor(c echo.Context, businessID, variant string) views.SendForm {
	if !web.IdentityOf(c).Can(access.SendsRecord) {
		return views.SendForm{}
	}
	return views.SendForm{Action: "/admin/campaigns/" + strings.ToLower(businessID) + "/sends", CSRF: web.CSRFToken(c),
		Variant: variant, Name: campaign.DisplayName(variant), Key: newFormKey()}
}

// newFormKey is a fresh idempotency key for a rendered form.
func newFormKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "form-" + hex.EncodeToString(b[:])
}
