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
// are absent. No read grows with the number of taps, and none with the
// number of sends in the window:
//   - no bounds: the running totals (campaign_variant_totals), one row per
//     variant;
//   - a window ending now (until nil or in the future: "the last 24 h, 7 d,
//     30 d, 90 d"): the hour rollup (campaign_variant_hours) for the whole
//     UTC hours after since's hour, plus since's own hour from since on
//     read from its sends (at most an hour of them). Businesses sent to
//     (that clicked) are counted in the hour of their latest send (latest
//     tapped send) of the variant: a business had one in the window exactly
//     when its latest is in it, so the hours add up without counting a
//     business twice; for since's own hour, one index range over
//     campaign_variant_businesses' last_sent_at (last_clicked_at). Exact to
//     the microsecond: no rounding.
//   - a window ending in the past, or with no start: the hour rollup and
//     the gap rollup (gaps.go: each send by its hour and the hour of the
//     business's previous send of the variant) for the whole hours, and
//     the sends of the at most three partial hours at the window's edges
//     (resultsPastFromGaps). No read grows with the sends in the window.
//
// Voided sends count nowhere: VoidSend takes them out of the running
// totals, the hour rollup and the last-send columns in the transaction
// that voids it, and the reads of sends skip them.
func (s *Store) CampaignResults(ctx context.Context, since, until *time.Time) ([]VariantResult, error) {
	rows, err := s.readResults(ctx, variantResults, since, until)
	if err != nil {
		return nil, fmt.Errorf("store: campaign results: %w", err)
	}
	return rows, nil
}

// resultsQueries are the three reads of one split of the results (per
// variant, or per variant and template version), one per kind of window.
type resultsQueries struct {
	allTime, sinceFromRollups, pastFromGaps string
}

var variantResults = resultsQueries{resultsAllTime, resultsSinceFromRollups, resultsPastFromGaps}

// readResults picks the read for [since, until): the running totals when
// unbounded, the hour rollups when the window ends now (until nil or in
// the future), the hour and gap rollups when it ends in the past or has
// no start.
func (s *Store) readResults(ctx context.Context, q resultsQueries, since, until *time.Time) ([]VariantResult, error) {
	var rows []VariantResult
	var err error
	switch {
	case since == nil && until == nil:
		err = s.db.SelectContext(ctx, &rows, q.allTime)
	case since != nil && (until == nil || until.After(time.Now())):
		err = s.db.SelectContext(ctx, &rows, q.sinceFromRollups, *since)
	default:
		if since == nil {
			start := time.Unix(0, 0) // before any send
			since = &start
		}
		err = s.db.SelectContext(ctx, &rows, q.pastFromGaps, *since, *until)
	}
	return rows, classify(err)
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

// resultsAllTime reads the running totals the send and flush statements
// keep: one row per variant, whatever the number of sends.
const resultsAllTime = `SELECT variant, sends, businesses_sent, businesses_clicked, clicks, segments, cost_micros
	FROM campaign_variant_totals WHERE sends > 0 ORDER BY variant`

// resultsSinceFromRollups is a window from $1 to now: whole hours from the
// rollup (businesses by the hour of their latest send, and latest tapped
// send), the rest of $1's own UTC hour from its sends
// (campaign_sends_sent_at_idx) and the last-send indexes.
const resultsSinceFromRollups = `WITH bounds AS (
		SELECT date_trunc('hour', $1::timestamptz, 'UTC') AS first_hour,
		       date_trunc('hour', $1::timestamptz, 'UTC') + interval '1 hour' AS next_hour
	), hours AS (
		SELECT v.variant, SUM(v.sends) AS sends, SUM(v.segments) AS segments,
		       SUM(v.cost_micros) AS cost_micros, SUM(v.clicks) AS clicks,
		       SUM(v.businesses_sent_last) AS businesses_sent, SUM(v.businesses_clicked_last) AS businesses_clicked
		FROM campaign_variant_hours v, bounds b
		WHERE v.hour > b.first_hour
		GROUP BY v.variant
	), first_hour AS (
		SELECT c.variant, COUNT(*) AS sends, SUM(c.segments) AS segments,
		       SUM(c.cost_micros) AS cost_micros, SUM(c.clicks) AS clicks,
		       (SELECT COUNT(*) FROM campaign_variant_businesses vb
		        WHERE vb.variant = c.variant AND vb.last_sent_at >= $1
		          AND vb.last_sent_at < b.next_hour) AS businesses_sent,
		       (SELECT COUNT(*) FROM campaign_variant_businesses vb
		        WHERE vb.variant = c.variant AND vb.last_clicked_at >= $1
		          AND vb.last_clicked_at < b.next_hour) AS businesses_clicked
		FROM campaign_sends c, bounds b
		WHERE c.sent_at >= $1 AND c.sent_at < b.next_hour AND c.voided_at IS NULL
		GROUP BY c.variant, b.next_hour
	), sums AS (
		SELECT variant, SUM(sends)::bigint AS sends, SUM(segments)::bigint AS segments,
		       SUM(cost_micros)::bigint AS cost_micros, SUM(clicks)::bigint AS clicks,
		       SUM(businesses_sent)::bigint AS businesses_sent, SUM(businesses_clicked)::bigint AS businesses_clicked
		FROM (SELECT * FROM hours UNION ALL SELECT * FROM first_hour) u
		GROUP BY variant
	)
	SELECT s.variant, s.sends, s.businesses_sent, s.businesses_clicked, s.clicks, s.segments, s.cost_micros
	FROM sums s
	WHERE s.sends > 0
	ORDER BY s.variant`

// resultsPastFromGaps is a window [$1, $2) that ends in the past (or has
// no start: $1 the epoch). Writing s0 for $1's UTC hour, s1 for the next
// and u0 for $2's, it reads:
//   - the whole hours [s1, u0) from the hour rollup (sends, segments, cost,
//     clicks) and from the gap rollup (gaps.go): the businesses whose first
//     send (tapped send) in the window is in them and whose previous one is
//     before s0 (A);
//   - the sends of [s0, $1), at most an hour of them: their businesses
//     whose first send (tapped send) from $1 on is in the whole hours are
//     the rest of those (B), each one index walk of its business's sends;
//   - the window's sends outside its whole hours, at most two partial
//     hours: all their columns, and as businesses the sends with no earlier
//     send (tapped send) of the key in the window (C).
//
// Businesses sent to = A + B + C, and that clicked likewise: exact, and
// independent of the number of sends in the whole hours.
const resultsPastFromGaps = `WITH b AS (
		SELECT $1::timestamptz AS s, $2::timestamptz AS u,
		       date_trunc('hour', $1::timestamptz, 'UTC') AS s0,
		       date_trunc('hour', $1::timestamptz, 'UTC') + interval '1 hour' AS s1,
		       date_trunc('hour', $2::timestamptz, 'UTC') AS u0
	), hours AS (
		SELECT v.variant, SUM(v.sends) AS sends, SUM(v.segments) AS segments, SUM(v.cost_micros) AS cost_micros,
		       SUM(v.clicks) AS clicks, 0 AS businesses_sent, 0 AS businesses_clicked
		FROM campaign_variant_hours v, b
		WHERE v.hour >= b.s1 AND v.hour < b.u0
		GROUP BY v.variant
	), firsts AS (
		SELECT g.variant, 0, 0, 0, 0, SUM(g.sends), SUM(g.tapped)
		FROM campaign_variant_gaps g, b
		WHERE g.hour >= b.s1 AND g.hour < b.u0 AND g.prev_hour < b.s0
		GROUP BY g.variant
	), carried AS (
		SELECT k.variant, 0, 0, 0, 0,
		       COUNT(*) FILTER (WHERE n.first_sent >= b.s1 AND n.first_sent < b.u0),
		       COUNT(*) FILTER (WHERE k.tapped AND n.first_tapped >= b.s1 AND n.first_tapped < b.u0)
		FROM (SELECT c.variant, c.business_id, bool_or(c.clicks > 0) AS tapped
		      FROM campaign_sends c, b
		      WHERE c.sent_at >= b.s0 AND c.sent_at < b.s AND c.voided_at IS NULL
		      GROUP BY c.variant, c.business_id) k
		CROSS JOIN b
		CROSS JOIN LATERAL (
			SELECT MIN(n.sent_at) AS first_sent, MIN(n.sent_at) FILTER (WHERE n.clicks > 0) AS first_tapped
			FROM campaign_sends n
			WHERE n.business_id = k.business_id AND n.variant = k.variant AND n.sent_at >= b.s AND n.voided_at IS NULL) n
		GROUP BY k.variant
	), edge AS (
		SELECT c.id, c.business_id, c.variant, c.sent_at, c.segments, c.cost_micros, c.clicks
		FROM campaign_sends c, b
		WHERE c.sent_at >= b.s AND c.sent_at < LEAST(b.s1, b.u) AND c.voided_at IS NULL
		UNION ALL
		SELECT c.id, c.business_id, c.variant, c.sent_at, c.segments, c.cost_micros, c.clicks
		FROM campaign_sends c, b
		WHERE c.sent_at >= GREATEST(b.u0, b.s1) AND c.sent_at < b.u AND c.voided_at IS NULL
	), edges AS (
		SELECT e.variant, COUNT(*), SUM(e.segments), SUM(e.cost_micros), SUM(e.clicks),
		       COUNT(*) FILTER (WHERE NOT EXISTS (
		           SELECT 1 FROM campaign_sends p
		           WHERE p.business_id = e.business_id AND p.variant = e.variant AND p.voided_at IS NULL
		             AND p.sent_at >= b.s AND (p.sent_at, p.id) < (e.sent_at, e.id))),
		       COUNT(*) FILTER (WHERE e.clicks > 0 AND NOT EXISTS (
		           SELECT 1 FROM campaign_sends p
		           WHERE p.business_id = e.business_id AND p.variant = e.variant AND p.voided_at IS NULL
		             AND p.clicks > 0 AND p.sent_at >= b.s AND (p.sent_at, p.id) < (e.sent_at, e.id)))
		FROM edge e, b
		GROUP BY e.variant
	)
	SELECT variant, SUM(sends)::bigint AS sends, SUM(businesses_sent)::bigint AS businesses_sent,
	       SUM(businesses_clicked)::bigint AS businesses_clicked, SUM(clicks)::bigint AS clicks,
	       SUM(segments)::bigint AS segments, SUM(cost_micros)::bigint AS cost_micros
	FROM (SELECT * FROM hours UNION ALL SELECT * FROM firsts UNION ALL SELECT * FROM carried
	      UNION ALL SELECT * FROM edges) u
	GROUP BY variant
	HAVING SUM(sends) > 0
	ORDER BY variant`
