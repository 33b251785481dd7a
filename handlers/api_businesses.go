package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
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

type createBusinessRequest struct {
	Name    *string `json:"name"`
	SiteURL *string `json:"site_url"`
	City    *string `json:"city"`
	Phone   *string `json:"phone"`
}

// CreateBusiness is POST /api/v1/businesses. With an Idempotency-Key
// header, repeats of the request (even concurrent) create nothing more and
// answer 200 with the business the first one created; the key with another
// body is a 422.
func (h *Handlers) CreateBusiness(c echo.Context) error {
	var body createBusinessRequest
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	nb, err := h.newBusiness(body)
	if err != nil {
		return err
	}
	idem, err := idempotency(c, false, "business", body)
	if err != nil {
		return err
	}
	b, created, err := h.store.CreateBusinessOnce(c.Request().Context(), nb, idem)
	if err != nil {
		return err
	}
	if !created { // an Idempotency-Key repeat: the first answer's business
		return c.JSON(http.StatusOK, toBusinessJSON(b))
	}
	return c.JSON(http.StatusCreated, toBusinessJSON(b))
}

func (h *Handlers) newBusiness(b createBusinessRequest) (db.NewBusiness, error) {
	name := strings.TrimSpace(deref(b.Name))
	if name == "" {
		return db.NewBusiness{}, invalid("name", "name is required")
	}
	if b.SiteURL == nil || *b.SiteURL == "" {
		return db.NewBusiness{}, invalid("site_url", "site_url is required")
	}
	site, err := h.normalizeURL(*b.SiteURL)
	if err != nil {
		return db.NewBusiness{}, invalid("site_url", "%s", err.Error())
	}
	nb := db.NewBusiness{Name: name, City: strings.TrimSpace(deref(b.City)), Phone: strings.TrimSpace(deref(b.Phone)), SiteURL: site}
	for field, v := range map[string]string{"name": nb.Name, "city": nb.City, "phone": nb.Phone} {
		if !isPlainText(v) || utf8.RuneCountInString(v) > 200 {
			return db.NewBusiness{}, invalid(field, "%s must be at most 200 characters of plain text on one line", field)
		}
	}
	return nb, nil
}

// ListBusinesses is GET /api/v1/businesses?limit=&offset=: a JSON array,
// ordered by name.
func (h *Handlers) ListBusinesses(c echo.Context) error {
	limit, offset := pageParams(c, 100)
	bs, err := h.store.ListBusinesses(c.Request().Context(), limit, offset)
	if err != nil {
		return err
	}
	out := make([]businessJSON, len(bs))
	for i, b := range bs {
		out[i] = toBusinessJSON(b)
	}
	return c.JSON(http.StatusOK, out)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
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
	id := c.Param("id")
	if !isUUID(id) {
		return notFound("business")
	}
	ctx := c.Request().Context()
	b, err := h.store.GetBusiness(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return notFound("business")
	}
	if err != nil {
		return err
	}
	totals, err := h.store.BusinessTotals(ctx, b.ID)
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
