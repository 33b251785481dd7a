package db

import (
	"context"
	"fmt"
	"strings"
)

// CampaignFilter selects businesses for the campaign listing.
type CampaignFilter struct {
	Query  string // substring of the name or the city
	Limit  int    // clamped to 1..500, default 25
	Offset int
}

// CampaignBusiness is a business ready for outreach with the state of its
// site's active site_preview link.
type CampaignBusiness struct {
	Business
	LinkSlug   *string `db:"link_slug"` // nil when no active link exists yet
	ClickCount int64   `db:"click_count"`
}

// CampaignPage is one page of the listing plus the total matching the filter.
type CampaignPage struct {
	Businesses []CampaignBusiness
	Total      int
}

// ListCampaignBusinesses returns businesses ready for outreach, by name.
func (s *Store) ListCampaignBusinesses(ctx context.Context, f CampaignFilter) (CampaignPage, error) {
	pattern := ""
	if q := strings.TrimSpace(f.Query); q != "" {
		pattern = "%" + escapeLike(q) + "%"
	}
	// The link is found the way GetOrCreateLink finds it (hash, exact URL,
	// type, active), so the listing and the preview agree on "a link
	// exists"; the partial unique index guarantees at most one match, so the
	// join never duplicates a business. COUNT(*) OVER () gives the total.
	var rows []struct {
		CampaignBusiness
		Total int `db:"total"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT `+businessColumns+`,
			l.slug AS link_slug, COALESCE(l.click_count, 0) AS click_count,
			COUNT(*) OVER () AS total
		`+businessFrom+`
		LEFT JOIN short_links l
		       ON l.destination_hash = short_links_url_hash(s.url) AND l.destination_url = s.url
		      AND l.link_type = $2 AND l.is_active
		WHERE b.status = $1
		  AND ($3 = '' OR b.name ILIKE $3 OR b.city ILIKE $3)
		ORDER BY b.name, b.id
		LIMIT $4 OFFSET $5`,
		StatusReadyForOutreach, LinkTypeSitePreview, pattern, clamp(f.Limit, 1, 500, 25), max(f.Offset, 0))
	if err != nil {
		return CampaignPage{}, fmt.Errorf("store: list campaign businesses: %w", classify(err))
	}
	page := CampaignPage{Businesses: make([]CampaignBusiness, 0, len(rows))}
	for _, r := range rows {
		page.Businesses = append(page.Businesses, r.CampaignBusiness)
		page.Total = r.Total
	}
	if len(rows) == 0 && f.Offset > 0 {
		// Past the last page the window function has no row to report on.
		err := s.db.GetContext(ctx, &page.Total, `SELECT COUNT(*) FROM businesses b
			WHERE b.status = $1 AND ($2 = '' OR b.name ILIKE $2 OR b.city ILIKE $2)`,
			StatusReadyForOutreach, pattern)
		if err != nil {
			return CampaignPage{}, fmt.Errorf("store: count campaign businesses: %w", classify(err))
		}
	}
	return page, nil
}
