package db

import (
	"context"
	"fmt"
	"time"
)

// VariantResult is what the sends of one variant achieved. Clicks are the
// taps attributed to those sends by the click flush (see flushStatement):
// each tap goes to the latest send at or before it.
type VariantResult struct {
	Variant           string `db:"variant"`
	Sends             int64  `db:"sends"`
	BusinessesSent    int64  `db:"businesses_sent"`
	BusinessesClicked int64  `db:"businesses_clicked"`
	Clicks            int64  `db:"clicks"`
	Segments          int64  `db:"segments"`
	CostMicros        int64  `db:"cost_micros"`
	// TemplateVersion is set only by CampaignResultsByVersion (nil there:
	// sends recorded before versions were kept).
	TemplateVersion *int `db:"template_version"`
}

// CampaignResults returns the results per variant of the sends whose
// sent_at is in [since, until) (nil: unbounded); variants without sends
// are absent. Without bounds it reads the running totals that the send and
// flush statements keep (campaign_variant_totals: one row per variant,
// whatever the number of sends); with bounds it aggregates the window's
// sends through campaign_sends_sent_at_idx, each carrying its own
// attributed clicks, so no click is ever scanned.
func (s *Store) CampaignResults(ctx context.Context, since, until *time.Time) ([]VariantResult, error) {
	var rows []VariantResult
	var err error
	if since == nil && until == nil {
		err = s.db.SelectContext(ctx, &rows, `SELECT variant, sends, businesses_sent, businesses_clicked,
				clicks, segments, cost_micros
			FROM campaign_variant_totals ORDER BY variant`)
	} else {
		// Grouped by (variant, business) first, with hashing, rather than
		// COUNT(DISTINCT), which sorts every send of the window.
		err = s.db.SelectContext(ctx, &rows, `SELECT variant, SUM(sends) AS sends,
				COUNT(*) AS businesses_sent, COUNT(*) FILTER (WHERE clicks > 0) AS businesses_clicked,
				SUM(clicks) AS clicks, SUM(segments) AS segments, SUM(cost_micros) AS cost_micros
			FROM (SELECT variant, business_id, COUNT(*) AS sends, SUM(clicks) AS clicks,
			             SUM(segments) AS segments, SUM(cost_micros) AS cost_micros
			      FROM campaign_sends
			      WHERE ($1::timestamptz IS NULL OR sent_at >= $1) AND ($2::timestamptz IS NULL OR sent_at < $2)
			        AND voided_at IS NULL
			      GROUP BY variant, business_id) per_business
			GROUP BY variant ORDER BY variant`, since, until)
	}
	if err != nil {
		return nil, fmt.Errorf("store: campaign results: %w", classify(err))
	}
	return rows, nil
}

// CampaignResultsByVersion is CampaignResults split by the template
// version each send rendered, so a variant's numbers before and after an
// edit of its text are told apart. It always aggregates the sends (the
// running totals are per variant only), through campaign_sends_sent_at_idx
// when bounded. Voided sends are left out, as everywhere.
func (s *Store) CampaignResultsByVersion(ctx context.Context, since, until *time.Time) ([]VariantResult, error) {
	var rows []VariantResult
	err := s.db.SelectContext(ctx, &rows, `SELECT variant, template_version, SUM(sends) AS sends,
			COUNT(*) AS businesses_sent, COUNT(*) FILTER (WHERE clicks > 0) AS businesses_clicked,
			SUM(clicks) AS clicks, SUM(segments) AS segments, SUM(cost_micros) AS cost_micros
		FROM (SELECT variant, template_version, business_id, COUNT(*) AS sends, SUM(clicks) AS clicks,
		             SUM(segments) AS segments, SUM(cost_micros) AS cost_micros
		      FROM campaign_sends
		      WHERE ($1::timestamptz IS NULL OR sent_at >= $1) AND ($2::timestamptz IS NULL OR sent_at < $2)
		        AND voided_at IS NULL
		      GROUP BY variant, template_version, business_id) per_business
		GROUP BY variant, template_version ORDER BY variant, template_version NULLS FIRST`, since, until)
	if err != nil {
		return nil, fmt.Errorf("store: campaign results by version: %w", classify(err))
	}
	return rows, nil
}

// VariantBusiness is a business a variant was sent to, with the taps its
// sends of that variant earned.
type VariantBusiness struct {
	BusinessID string    `db:"business_id"`
	Name       string    `db:"name"`
	Phone      string    `db:"phone"`
	Sends      int64     `db:"sends"`
	LastSentAt time.Time `db:"last_sent_at"`
	Taps       int64     `db:"taps"`
}

// VariantBusinesses lists the businesses variant was sent to in [since,
// until) (sends not voided), those that tapped first when tappedOnly is
// false, newest send first; at most limit.
func (s *Store) VariantBusinesses(ctx context.Context, variant string, tappedOnly bool, since, until *time.Time, limit int) ([]VariantBusiness, error) {
	out := []VariantBusiness{}
	err := s.db.SelectContext(ctx, &out, `SELECT c.business_id::text, b.name, b.phone, COUNT(*) AS sends,
			MAX(c.sent_at) AS last_sent_at, SUM(c.clicks)::bigint AS taps
		FROM campaign_sends c JOIN businesses b ON b.id = c.business_id
		WHERE c.variant = $1 AND c.voided_at IS NULL
		  AND ($2::timestamptz IS NULL OR c.sent_at >= $2) AND ($3::timestamptz IS NULL OR c.sent_at < $3)
		GROUP BY c.business_id, b.name, b.phone
		HAVING NOT $4 OR SUM(c.clicks) > 0
		ORDER BY SUM(c.clicks) > 0 DESC, MAX(c.sent_at) DESC
		LIMIT $5`, variant, since, until, tappedOnly, clamp(limit, 1, 500, 200))
	if err != nil {
		return nil, fmt.Errorf("store: businesses of variant %q: %w", variant, classify(err))
	}
	return out, nil
}
