package handlers

import (
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

// CreateBusiness is POST /api/v1/businesses.
func (h *Handlers) CreateBusiness(c echo.Context) error {
	var body createBusinessRequest
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	nb, err := h.newBusiness(body)
	if err != nil {
		return err
	}
	b, err := h.store.CreateBusiness(c.Request().Context(), nb)
	if err != nil {
		return err
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
