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
// are absent. No read grows with the number of taps, or reads the sends
// of the window's whole hours:
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
//     (resultsPastFromGaps). The gap rows read grow with the distinct
//     (hour, previous hour) pairs of the window: at most one per send,
//     43,000 for 23 days of 1M sends over four months (15 ms).
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
		err = s.db.SelectContext(ctx, &rows, q.pastFromGaps, pastWindow(since, *until)...)
	}
	return rows, classify(err)
}

// pastWindow is resultsPastFromGaps' parameters for [since, until) (since
// nil: the epoch, before any send), to the microsecond as PostgreSQL keeps
// them.
func pastWindow(since *time.Time, until time.Time) []any {
	s := time.Unix(0, 0).UTC()
	if since != nil {
		s = since.UTC().Round(time.Microsecond)
	}
	u := until.UTC().Round(time.Microsecond)
	s0, u0 := s.Truncate(time.Hour), u.Truncate(time.Hour)
	s1 := s0.Add(time.Hour)
	if s.Equal(s0) {
		// since on the hour (the page's dates are midnights): its hour is
		// whole too, and a previous send before since is one in an earlier
		// hour, so no edge is read before it.
		s1 = s0
	}
	edge1End, edge2Start := s1, u0
	if u.Before(edge1End) {
		edge1End = u
	}
	if s1.After(edge2Start) {
		edge2Start = s1
	}
	return []any{s, u, s0, s1, u0, edge1End, edge2Start}
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
// no start: $1 the epoch); $3 is $1's UTC hour, $4 the first whole hour
// (the next, or $3 when $1 is on the hour), $5 $2's hour, and the
// window's edges outside its whole hours [$4, $5) are [$1, $6) and
// [$7, $2) (pastWindow). It reads:
//   - the whole hours from the hour rollup (sends, segments, cost, clicks)
//     and from the gap rollup (gaps.go): the businesses whose first send
//     (tapped send) in the window is in them and whose previous one is
//     before $3 (A);
//   - the sends of [$3, $1), at most an hour of them: their businesses
//     whose first send (tapped send) from $1 on is in the whole hours are
//     the rest of those (B), each one index walk of its business's sends;
//   - the sends of the edges, at most two partial hours: all their
//     columns, and as businesses the sends with no earlier send (tapped
//     send) of the key in the window (C).
//
// Businesses sent to = A + B + C, and that clicked likewise: exact, and
// independent of the number of sends in the whole hours. The bounds are
// parameters, not computed in the statement, so the planner sees them.
const resultsPastFromGaps = `WITH hours AS (
		SELECT v.variant, SUM(v.sends) AS sends, SUM(v.segments) AS segments, SUM(v.cost_micros) AS cost_micros,
		       SUM(v.clicks) AS clicks, 0 AS businesses_sent, 0 AS businesses_clicked
		FROM campaign_variant_hours v
		WHERE v.hour >= $4 AND v.hour < $5
		GROUP BY v.variant
	), firsts AS (
		SELECT g.variant, 0, 0, 0, 0, SUM(g.sends), SUM(g.tapped)
		FROM campaign_variant_gaps g
		WHERE g.hour >= $4 AND g.hour < $5 AND g.prev_hour < $3
		GROUP BY g.variant
	), carried AS (
		SELECT k.variant, 0, 0, 0, 0,
		       COUNT(*) FILTER (WHERE n.first_sent >= $4 AND n.first_sent < $5),
		       COUNT(*) FILTER (WHERE k.tapped AND n.first_tapped >= $4 AND n.first_tapped < $5)
		FROM (SELECT c.variant, c.business_id, bool_or(c.clicks > 0) AS tapped
		      FROM campaign_sends c
		      WHERE c.sent_at >= $3 AND c.sent_at < $1 AND c.voided_at IS NULL
		      GROUP BY c.variant, c.business_id) k
		CROSS JOIN LATERAL (
			SELECT MIN(n.sent_at) AS first_sent, MIN(n.sent_at) FILTER (WHERE n.clicks > 0) AS first_tapped
			FROM campaign_sends n
			WHERE n.business_id = k.business_id AND n.variant = k.variant AND n.sent_at >= $1 AND n.voided_at IS NULL) n
		GROUP BY k.variant
	), edge AS (
		SELECT c.id, c.business_id, c.variant, c.sent_at, c.segments, c.cost_micros, c.clicks
		FROM campaign_sends c
		WHERE c.sent_at >= $1 AND c.sent_at < $6 AND c.voided_at IS NULL
		UNION ALL
		SELECT c.id, c.business_id, c.variant, c.sent_at, c.segments, c.cost_micros, c.clicks
		FROM campaign_sends c
		WHERE c.sent_at >= $7 AND c.sent_at < $2 AND c.voided_at IS NULL
	), edges AS (
		SELECT e.variant, COUNT(*), SUM(e.segments), SUM(e.cost_micros), SUM(e.clicks),
		       COUNT(*) FILTER (WHERE NOT EXISTS (
		           SELECT 1 FROM campaign_sends p
		           WHERE p.business_id = e.business_id AND p.variant = e.variant AND p.voided_at IS NULL
		             AND p.sent_at >= $1 AND (p.sent_at, p.id) < (e.sent_at, e.id))),
		       COUNT(*) FILTER (WHERE e.clicks > 0 AND NOT EXISTS (
		           SELECT 1 FROM campaign_sends p
		           WHERE p.business_id = e.business_id AND p.variant = e.variant AND p.voided_at IS NULL
		             AND p.clicks > 0 AND p.sent_at >= $1 AND (p.sent_at, p.id) < (e.sent_at, e.id)))
		FROM edge e
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
