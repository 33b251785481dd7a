package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// businessJSON is a business as the API returns it.
type businessJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	City      string    `json:"city"`
	Phone     string    `json:"phone"`
	Status    string    `json:"status"`
	SiteID    *string   `json:"site_id"`
	SiteURL   *string   `json:"site_url"`
	CreatedAt time.Time `json:"created_at"`
}

func toBusinessJSON(b db.Business) businessJSON {
	return businessJSON{ID: b.ID, Name: b.Name, City: b.City, Phone: b.Phone, Status: b.Status,
		SiteID: b.SiteID, SiteURL: b.SiteURL, CreatedAt: b.CreatedAt}
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
	b, created, err := h.Store.CreateBusinessOnce(c.Request().Context(), nb, idem)
	if err != nil {
		return err
	}
	if !created { // an Idempotency-Key repeat: the first answer's business
		return c.JSON(http.StatusOK, toBusinessJSON(b))
	}
	return c.JSON(http.StatusCreated, toBusinessJSON(b))
}

// ListBusinesses is GET /api/v1/businesses?limit=&offset=: a JSON array,
// ordered by name.
func (h *Handlers) ListBusinesses(c echo.Context) error {
	limit, err := web.LimitParam(c, 100)
	if err != nil {
		return err
	}
	offset, err := web.IntParam(c, "offset", 0, 0, 1_000_000)
	if err != nil {
		return err
	}
	bs, err := h.Store.ListBusinesses(c.Request().Context(), limit, offset)
	if err != nil {
		return err
	}
	out := make([]businessJSON, len(bs))
	for i, b := range bs {
		out[i] = toBusinessJSON(b)
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
