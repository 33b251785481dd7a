package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/access"
	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/phone"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// The outreach day in the console: the queue, follow-ups, opt-outs, voided
// sends, reactivating a sent link, a variant's businesses and the CSV
// import. Each change is one store method in its own transaction (audit
// rows can be added beside each call).

// OutreachQueue is GET /admin/campaigns/queue?variant=: "Start outreach"
// opens the first business not sent and not opted out, in the queue.
func (h *Handlers) OutreachQueue(c echo.Context) error {
	variant := c.QueryParam("variant")
	if !campaign.Known(variant) {
		variant = campaign.Friendly
	}
	id, err := h.Store.NextInQueue(c.Request().Context(), "", "")
	if errors.Is(err, db.ErrNotFound) {
		return c.Redirect(http.StatusSeeOther, "/admin/campaigns?status="+db.OutreachNotSent)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, campaignHref(id, variant, true))
}

// outreachDetail adds to a business's page what does not depend on the
// variant: its sends with their void forms, the opt-out form, the queue
// bar and the flash of the send just marked.
func (h *Handlers) outreachDetail(c echo.Context, d *views.CampaignDetail) error {
	ctx, id := c.Request().Context(), strings.ToLower(c.Param("id"))
	b, err := h.Store.GetBusiness(ctx, id)
	if err != nil {
		return err
	}
	sends, err := h.Store.ListSends(ctx, id, 20)
	if err != nil {
		return err
	}
	for _, s := range sends {
		d.Sends = append(d.Sends, sendRow(c, s))
	}
	d.OptOut = views.OptOutForm{OptedOut: b.OptedOutAt != nil}
	if web.IdentityOf(c).Can(access.BusinessesEdit) {
		d.OptOut.Action, d.OptOut.CSRF = "/admin/campaigns/"+id+"/opt-out", web.CSRFToken(c)
	}
	if b.OptedOutAt != nil {
		d.OptOut.Since = displayTime(*b.OptedOutAt)
	}
	if sent := c.QueryParam("sent"); db.IsUUID(sent) {
		if s, err := h.Store.GetSend(ctx, sent); err == nil {
			if prev, err := h.Store.GetBusiness(ctx, s.BusinessID); err == nil {
				d.Flash = fmt.Sprintf("Marked %s as sent to %s.", campaign.DisplayName(s.Variant), prev.Name)
			}
		}
	}
	if c.QueryParam("queue") != "1" {
		return nil
	}
	return h.queueNav(ctx, b, c.QueryParam("variant"), d)
}

// queueNav fills the queue bar of business b's page.
func (h *Handlers) queueNav(ctx context.Context, b db.Business, variant string, d *views.CampaignDetail) error {
	if !campaign.Known(variant) {
		variant = campaign.Friendly
	}
	q := &views.QueueNav{DoneHref: "/admin/campaigns"}
	left, err := h.Store.CountQueue(ctx)
	if err != nil {
		return err
	}
	q.Left = left.N
	next, err := h.Store.NextInQueue(ctx, b.Name, b.ID)
	if err == nil {
		q.NextHref = campaignHref(next, variant, true)
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	prev, err := h.Store.PrevInQueue(ctx, b.Name, b.ID)
	if err == nil {
		q.PrevHref = campaignHref(prev, variant, true)
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	d.Queue = q
	return nil
}

// sendRow shapes one send for the history list.
func sendRow(c echo.Context, s db.Send) views.SendRow {
	r := views.SendRow{ID: s.ID, Variant: campaign.DisplayName(s.Variant), SentAt: displayTime(s.SentAt),
		SentAtISO: s.SentAt.UTC().Format(time.RFC3339), By: web.Deref(s.SentBy), Taps: s.Clicks,
		Voided: s.VoidedAt != nil, VoidReason: web.Deref(s.VoidReason)}
	if s.FirstClickedAt != nil {
		r.FirstTap = humanDuration(s.FirstClickedAt.Sub(s.SentAt))
	}
	if !r.Voided && web.IdentityOf(c).Can(access.SendsVoid) {
		r.VoidAction, r.CSRF = "/admin/campaigns/sends/"+s.ID+"/void", web.CSRFToken(c)
	}
	return r
}

// OptOutForm is POST /admin/campaigns/:id/opt-out (opted_out=true|false).
func (h *Handlers) OptOutForm(c echo.Context) error {
	b, err := h.BusinessParam(c)
	if err != nil {
		return err
	}
	out := c.FormValue("opted_out") != "false"
	if _, err := h.Store.SetOptedOut(c.Request().Context(), b.ID, out); err != nil {
		return err
	}
	h.Log.Info("opt-out changed in the admin console", "business_id", b.ID, "opted_out", out)
	return c.Redirect(http.StatusSeeOther, campaignPageHref(b.ID, ""))
}

// ReactivateSentLinkForm is POST /admin/campaigns/:id/reactivate: the
// link of the business's latest send answers again.
func (h *Handlers) ReactivateSentLinkForm(c echo.Context) error {
	b, err := h.BusinessParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sent, err := h.Store.LatestSentLink(ctx, b.ID)
	if errors.Is(err, db.ErrNotFound) {
		return web.NotFound("send")
	}
	if err != nil {
		return err
	}
	if _, err := h.Store.Activate(ctx, sent.Link.Slug); errors.Is(err, db.ErrConflict) {
		return &web.APIError{Status: http.StatusConflict, Code: "conflict",
			Message: "another active link already points to this site, so the sent link cannot be reactivated; deactivate that one on the Links page first"}
	} else if err != nil {
		return err
	}
	h.Log.Info("sent link reactivated from the preview page", "business_id", b.ID, "slug", sent.Link.Slug)
	return c.Redirect(http.StatusSeeOther, campaignPageHref(b.ID, ""))
}

// VoidSendForm is POST /admin/campaigns/sends/:send/void with a reason.
func (h *Handlers) VoidSendForm(c echo.Context) error {
	id := strings.ToLower(c.Param("send"))
	if !db.IsUUID(id) {
		return web.NotFound("send")
	}
	s, err := h.VoidSendWithReason(c, id, c.FormValue("reason"))
	if err != nil {
		return err
	}
	h.Log.Info("send voided in the admin console", "send_id", id, "business_id", s.BusinessID)
	return c.Redirect(http.StatusSeeOther, campaignPageHref(s.BusinessID, ""))
}

// FollowUpsPage is GET /admin/campaigns/follow-ups: the businesses that
// tapped, newest first tap first.
func (h *Handlers) FollowUpsPage(c echo.Context) error {
	ups, err := h.Store.FollowUps(c.Request().Context(), 200)
	if err != nil {
		return err
	}
	rows := make([]views.FollowUpRow, len(ups))
	for i, f := range ups {
		rows[i] = views.FollowUpRow{Name: f.BusinessName, Href: campaignPageHref(f.BusinessID, ""),
			Phone: f.Phone, PhoneText: phone.Display(f.Phone), Variant: campaign.DisplayName(f.Variant),
			SentAt: displayTime(f.SentAt), FirstTap: displayTime(f.FirstTapAt), TapISO: f.FirstTapAt.UTC().Format(time.RFC3339),
			TimeToTap: humanDuration(f.TimeToTap()), Taps: f.Taps, OptedOut: f.OptedOut}
	}
	return web.Render(c, http.StatusOK, views.FollowUpsPage(h.Chrome(c, "Follow-ups", "campaigns"), rows))
}

// VariantBusinessesPage is GET /admin/results/variants/:variant?tapped=1&
// since=&until=: the businesses behind a variant's results.
func (h *Handlers) VariantBusinessesPage(c echo.Context) error {
	variant := c.Param("variant")
	if !campaign.Known(variant) {
		return web.NotFound("variant")
	}
	w, err := web.ResultsWindowParams(c)
	if err != nil {
		return err
	}
	tapped := c.QueryParam("tapped") == "1"
	rows, err := h.Store.VariantBusinesses(c.Request().Context(), variant, tapped, w.Since, w.Until, 500)
	if err != nil {
		return err
	}
	p := views.VariantBusinessesPage{Variant: variant, Name: campaign.DisplayName(variant), TappedOnly: tapped,
		AllHref: variantBusinessesHref(variant, false, w), TappedHref: variantBusinessesHref(variant, true, w),
		BackHref: resultsHref(w, false)}
	for _, r := range rows {
		p.Rows = append(p.Rows, views.VariantBusinessRow{Name: r.Name, Href: campaignPageHref(r.BusinessID, ""),
			Sends: r.Sends, LastSent: displayTime(r.LastSentAt), Taps: r.Taps})
	}
	return web.Render(c, http.StatusOK, views.VariantBusinesses(h.Chrome(c, p.Name+" businesses", "results"), p))
}

func variantBusinessesHref(variant string, tapped bool, w web.ResultsWindow) string {
	v := w.Values()
	if tapped {
		v.Set("tapped", "1")
	}
	h := "/admin/results/variants/" + url.PathEscape(variant)
	if len(v) > 0 {
		h += "?" + v.Encode()
	}
	return h
}

// statusOptions are the choices of the listing's status filter.
func statusOptions(selected string) []views.StatusOption {
	out := []views.StatusOption{{Value: "", Label: "Any status", Selected: selected == ""}}
	for _, s := range db.OutreachStatuses {
		out = append(out, views.StatusOption{Value: s, Label: outreachLabel(s), Selected: s == selected})
	}
	return out
}

// outreachStatusParam reads ?status=: "" or one of db.OutreachStatuses.
func outreachStatusParam(c echo.Context) (string, error) {
	s := c.QueryParam("status")
	if s != "" && !db.KnownOutreachStatus(s) {
		return "", web.Invalid("status", "status must be one of %s", strings.Join(db.OutreachStatuses, ", "))
	}
	return s, nil
}

// humanDuration says how long, to the minute: "45 s", "12 min", "2 h 5 min", "3 d 4 h".
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0 s"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d d %d h", int(d.Hours())/24, int(d.Hours())%24)
}

// ImportPage is GET /admin/businesses/import: the upload form.
func (h *Handlers) ImportPage(c echo.Context) error {
	return web.Render(c, http.StatusOK, views.ImportPage(h.Chrome(c, "Import businesses", "campaigns"), views.ImportForm{CSRF: web.CSRFToken(c)}))
}

// ImportForm is POST /admin/businesses/import (multipart, field "file"):
// the page again, with the report (web/business_import.go checks and
// writes the rows). js/import.js sends it with a progress bar and shows
// the report from the answer.
func (h *Handlers) ImportForm(c echo.Context) error {
	f := views.ImportForm{CSRF: web.CSRFToken(c), Partial: c.FormValue("partial") == "true"}
	page := func(status int) error {
		return web.Render(c, status, views.ImportPage(h.Chrome(c, "Import businesses", "campaigns"), f))
	}
	fh, err := c.FormFile("file")
	if err != nil {
		f.Error = "Choose a CSV file to import."
		return page(http.StatusBadRequest)
	}
	file, err := fh.Open()
	if err != nil {
		f.Error = "The file could not be read; try again."
		return page(http.StatusBadRequest)
	}
	defer file.Close()
	out, status, err := h.ImportCSV(c.Request().Context(), file, f.Partial, db.Idempotency{})
	if err != nil {
		return err
	}
	h.Log.Info("businesses imported in the admin console", "imported", out.Imported, "updated", out.Updated, "rejected", len(out.Rejected))
	f.Done, f.Imported, f.Updated, f.Refused = true, out.Imported, out.Updated, status != http.StatusOK
	for _, r := range out.Rejected {
		f.Rejected = append(f.Rejected, views.ImportRejection(r))
	}
	return page(status)
}
