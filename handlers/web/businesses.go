package web

import (
	"strings"
	"unicode/utf8"

	"github.com/shortlinks/shortlinks/db"
)

type CreateBusinessRequest struct {
	Name    *string `json:"name"`
	SiteURL *string `json:"site_url"`
	City    *string `json:"city"`
	Phone   *string `json:"phone"`
}

func (h *Base) NewBusiness(b CreateBusinessRequest) (db.NewBusiness, error) {
	name := strings.TrimSpace(Deref(b.Name))
	if name == "" {
		return db.NewBusiness{}, Invalid("name", "name is required")
	}
	if b.SiteURL == nil || *b.SiteURL == "" {
		return db.NewBusiness{}, Invalid("site_url", "site_url is required")
	}
	site, err := h.NormalizeURL(*b.SiteURL)
	if err != nil {
		return db.NewBusiness{}, Invalid("site_url", "%s", err.Error())
	}
	nb := db.NewBusiness{Name: name, City: strings.TrimSpace(Deref(b.City)), Phone: strings.TrimSpace(Deref(b.Phone)), SiteURL: site}
	for field, v := range map[string]string{"name": nb.Name, "city": nb.City, "phone": nb.Phone} {
		if !IsPlainText(v) || utf8.RuneCountInString(v) > 200 {
			return db.NewBusiness{}, Invalid(field, "%s must be at most 200 characters of plain text on one line", field)
		}
	}
	return nb, nil
}

func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
