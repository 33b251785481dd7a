package db

import (
	"context"
	"fmt"

	"github.com/lib/pq"
)

// A business's links are those it owns (short_links.business_id), the
// site_preview links to its sites' URLs (active and history, so links
// shared with other businesses with the same site, and links superseded
// by them), and the links its sends embedded. Every figure per business
// sums the links' counters (link_counters) over this set, which counts each tap once: a
// superseded link's taps are counted on its survivor only.
//
// businessLinksSQL selects their ids for the business $1; each branch is
// an index lookup (short_links_business_created_idx, short_links_destination_idx
// through sites_business_id_idx, campaign_sends_business_sent_idx).
const businessLinksSQL = `SELECT l.id FROM short_links l WHERE l.business_id = %[1]s
	UNION
	SELECT l.id FROM sites s JOIN short_links l
	    ON l.destination_hash = short_links_url_hash(s.url) AND l.destination_url = s.url AND l.link_type = 'site_preview'
	WHERE s.business_id = %[1]s
	UNION
	SELECT c.link_id FROM campaign_sends c WHERE c.business_id = %[1]s`

// linkBusinessesSQL counts the businesses having the link l (the inverse
// of businessLinksSQL), through sites_url_hash_idx and
// campaign_sends_link_sent_idx.
const linkBusinessesSQL = `(SELECT COUNT(*) FROM (
		SELECT l.business_id WHERE l.business_id IS NOT NULL
		UNION
		SELECT s.business_id FROM sites s
		WHERE l.link_type = 'site_preview' AND short_links_url_hash(s.url) = l.destination_hash AND s.url = l.destination_url
		UNION
		SELECT c.business_id FROM campaign_sends c WHERE c.link_id = l.id) o)`

// BusinessLink is one link of a business, with how many businesses have it.
type BusinessLink struct {
	Slug         string  `db:"slug"`
	IsActive     bool    `db:"is_active"`
	SupersededBy *string `db:"superseded_by_slug"`
	ClickCount   int64   `db:"click_count"`
	PreviewCount int64   `db:"preview_count"`
	Businesses   int     `db:"businesses"` // including this one; > 1 means shared
}

// BusinessTotals is a business's clicks and previews over all its links.
type BusinessTotals struct {
	ClickCount   int64
	PreviewCount int64
	Links        []BusinessLink // active first, then oldest first
}

// BusinessTotals returns the totals of a business (which must exist; an
// unknown id simply has no links).
func (s *Store) BusinessTotals(ctx context.Context, businessID string) (BusinessTotals, error) {
	var links []BusinessLink
	err := s.db.SelectContext(ctx, &links, `SELECT l.slug, l.is_active, v.slug AS superseded_by_slug,
			lc.click_count, lc.preview_count, `+linkBusinessesSQL+` AS businesses
		FROM (`+fmt.Sprintf(businessLinksSQL, "$1::uuid")+`) mine
		JOIN short_links l ON l.id = mine.id
		JOIN link_counters lc ON lc.link_id = l.id
		LEFT JOIN short_links v ON v.id = l.superseded_by
		ORDER BY l.is_active DESC, l.created_at, l.id`, businessID)
	if err != nil {
		return BusinessTotals{}, fmt.Errorf("store: business totals %s: %w", businessID, classify(err))
	}
	t := BusinessTotals{Links: links}
	for _, l := range links {
		t.ClickCount += l.ClickCount
		t.PreviewCount += l.PreviewCount
	}
	return t, nil
}

// Counts are a business's clicks and previews over all its links.
type Counts struct {
	Clicks   int64 `db:"clicks"`
	Previews int64 `db:"previews"`
}

// CountsByBusiness returns the totals of each of businessIDs (a listing
// page), in one statement: a few index lookups per business, whatever the
// number of businesses and links in the database.
func (s *Store) CountsByBusiness(ctx context.Context, businessIDs []string) (map[string]Counts, error) {
	var rows []struct {
		ID string `db:"id"`
		Counts
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT b.id::text AS id,
			COALESCE(SUM(lc.click_count), 0) AS clicks, COALESCE(SUM(lc.preview_count), 0) AS previews
		FROM unnest($1::uuid[]) AS b(id)
		LEFT JOIN LATERAL (`+fmt.Sprintf(businessLinksSQL, "b.id")+`) mine ON true
		LEFT JOIN link_counters lc ON lc.link_id = mine.id
		GROUP BY b.id`, pq.Array(businessIDs))
	if err != nil {
		return nil, fmt.Errorf("store: counts by business: %w", classify(err))
	}
	out := make(map[string]Counts, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Counts
	}
	return out, nil
}
