package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// businessJSON is a business as the API returns it. Phone is E.164 or
// null; Status is where its outreach stands (db.OutreachStatuses), with
// the latest send that is not voided and its taps.
type businessJSON struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	City       string        `json:"city"`
	Phone      *string       `json:"phone"`
	Status     string        `json:"status"`
	ExternalID *string       `json:"external_id"`
	OptedOutAt *time.Time    `json:"opted_out_at"`
	LastSend   *lastSendJSON `json:"last_send"`
	FirstTapAt *time.Time    `json:"first_tap_at"`
	Taps       int64         `json:"taps"`
	SiteID     *string       `json:"site_id"`
	SiteURL    *string       `json:"site_url"`
	CreatedAt  time.Time     `json:"created_at"`
}

// lastSendJSON is the latest send of a business that is not voided.
type lastSendJSON struct {
	ID      string    `json:"id"`
	Variant string    `json:"variant"`
	SentAt  time.Time `json:"sent_at"`
	SentBy  *string   `json:"sent_by"`
}

func toBusinessJSON(b db.Business) businessJSON {
	out := businessJSON{ID: b.ID, Name: b.Name, City: b.City, Status: b.OutreachStatus, ExternalID: b.ExternalID,
		OptedOutAt: b.OptedOutAt, FirstTapAt: b.FirstTapAt, Taps: b.Taps,
		SiteID: b.SiteID, SiteURL: b.SiteURL, CreatedAt: b.CreatedAt}
	if b.Phone != "" {
		out.Phone = &b.Phone
	}
	if b.LastSendID != nil {
		out.LastSend = &lastSendJSON{ID: *b.LastSendID, Variant: web.Deref(b.LastVariant), SentAt: *b.LastSentAt, SentBy: b.LastSentBy}
	}
	return out
}

// CreateBusiness is POST /api/v1/businesses. With an Idempotency-Key
// header, repeats of the request (even concurrent) create nothing more and
// answer 200 with the business the first one created; the key with another
// body is a 422.
func (h *Handlers) CreateBusiness(c echo.Context) error {
	var body web.CreateBusinessRequest
	if err := web.DecodeJSON(c, &body); err != nil {
		return err
	}
	nb, err := h.NewBusiness(body)
	if err != nil {
		return err
	}
	idem, err := web.Idempotency(c, false, db.ResourceBusiness, body)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// Looked up before the insert, so the new business is not its own clash.
	clashes, err := h.Store.ContactClashes(ctx, nb.Phone, nb.SiteURL, "")
	if err != nil {
		return err
	}
	b, created, err := h.Store.CreateBusinessOnce(ctx, nb, idem)
	if err != nil {
		return err
	}
	if !created { // an Idempotency-Key repeat: the first answer's business
		return c.JSON(http.StatusOK, toBusinessJSON(b))
	}
	out := createdBusinessJSON{businessJSON: toBusinessJSON(b), Warnings: []warningJSON{}}
	for _, cl := range clashes {
		out.Warnings = append(out.Warnings, warningJSON{Field: cl.Field, BusinessID: cl.BusinessID, BusinessName: cl.Name,
			Message: web.ClashText(cl)})
	}
	return c.JSON(http.StatusCreated, out)
}

// createdBusinessJSON is the answer of a create: the business, and a
// warning for each other business already having its phone or site.
type createdBusinessJSON struct {
	businessJSON
	Warnings []warningJSON `json:"warnings"`
}

type warningJSON struct {
	Field        string `json:"field"`
	BusinessID   string `json:"business_id"`
	BusinessName string `json:"business_name"`
	Message      string `json:"message"`
}

// businessListJSON is one page of GET /api/v1/businesses; NextCursor is
// absent on the last page.
type businessListJSON struct {
	Businesses []businessJSON `json:"businesses"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// ListBusinesses is GET /api/v1/businesses?status=&limit=&cursor=: one
// page by name; pass next_cursor back as ?cursor= for the next one. Any
// other parameter is a 400 naming it (web.Params on its route).
func (h *Handlers) ListBusinesses(c echo.Context) error {
	limit, err := web.LimitParam(c, 100)
	if err != nil {
		return err
	}
	f := db.BusinessFilter{Limit: limit, Status: c.QueryParam("status")}
	if f.Status != "" && !db.KnownOutreachStatus(f.Status) {
		return web.Invalid("status", "status must be one of %s", strings.Join(db.OutreachStatuses, ", "))
	}
	if raw := c.QueryParam("cursor"); raw != "" {
		cur, err := db.ParseCursor(raw)
		if err != nil {
			return web.Invalid("cursor", "cursor is not one this listing gave out; start again without it")
		}
		f.Cursor = &cur
	}
	page, err := h.Store.ListBusinesses(c.Request().Context(), f)
	if errors.Is(err, db.ErrInvalidInput) {
		return web.Invalid("cursor", "cursor is not one this listing gave out; start again without it")
	}
	if err != nil {
		return err
	}
	out := businessListJSON{Businesses: make([]businessJSON, len(page.Businesses))}
	for i, b := range page.Businesses {
		out.Businesses[i] = toBusinessJSON(b)
	}
	if page.Next != nil {
		out.NextCursor = page.Next.String()
	}
	return c.JSON(http.StatusOK, out)
}

// businessDetailJSON is GET /api/v1/businesses/{id}: the business with its
// clicks and previews summed over all its links.
type businessDetailJSON struct {
	businessJSON
	ClickCount   int64              `json:"click_count"`
	PreviewCount int64              `json:"preview_count"`
	Links        []businessLinkJSON `json:"links"`
}

// businessLinkJSON is one link of a business; shared when other businesses
// have it too (the same site URL, or a send of theirs embedded it).
type businessLinkJSON struct {
	Slug         string  `json:"slug"`
	IsActive     bool    `json:"is_active"`
	SupersededBy *string `json:"superseded_by"`
	ClickCount   int64   `json:"click_count"`
	PreviewCount int64   `json:"preview_count"`
	Shared       bool    `json:"shared"`
	SharedWith   int     `json:"shared_with"` // the other businesses having it
}

// GetBusiness is GET /api/v1/businesses/:id.
func (h *Handlers) GetBusiness(c echo.Context) error {
	b, err := h.BusinessParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	totals, err := h.Store.BusinessTotals(ctx, b.ID)
	if err != nil {
		return err
	}
	out := businessDetailJSON{businessJSON: toBusinessJSON(b), ClickCount: totals.ClickCount,
		PreviewCount: totals.PreviewCount, Links: make([]businessLinkJSON, len(totals.Links))}
	for i, l := range totals.Links {
		out.Links[i] = businessLinkJSON{Slug: l.Slug, IsActive: l.IsActive, SupersededBy: l.SupersededBy,
			ClickCount: l.ClickCount, PreviewCount: l.PreviewCount, Shared: l.Businesses > 1, SharedWith: max(l.Businesses-1, 0)}
	}
	return c.JSON(http.StatusOK, out)
}
