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
			      GROUP BY variant, business_id) per_business
			GROUP BY variant ORDER BY variant`, since, until)
	}
	if err != nil {
		return nil, fmt.Errorf("store: campaign results: %w", classify(err))
	}
	return rows, nil
}
