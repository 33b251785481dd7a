package db

import (
	"context"
	"fmt"
	"time"
)

// CampaignResultsByVersion is CampaignResults split by the template
// version each send rendered (TemplateVersion nil: sends recorded before
// versions were kept), so a variant's numbers before and after an edit of
// its text are told apart; rows by variant, then version (nil first). It
// reads the per-version rollups (migration 00039), kept in the same
// transactions and the same way as the per-variant ones (rollups.go), so
// the paths and their cost are CampaignResults':
//   - no bounds: campaign_version_totals, one row per version;
//   - a window ending now: campaign_version_hours for the whole UTC hours
//     after since's hour, plus since's own hour from its sends and
//     campaign_version_businesses' last-send indexes; businesses are
//     counted in the hour of their latest send (latest tapped send) of the
//     version, so the distinct counts add up exactly;
//   - a window ending in the past, or with no start: campaign_version_hours
//     and campaign_version_gaps for the whole hours, the sends of the
//     window's edges (see CampaignResults).
//
// Voided sends are left out, as everywhere.
func (s *Store) CampaignResultsByVersion(ctx context.Context, since, until *time.Time) ([]VariantResult, error) {
	rows, err := s.readResults(ctx, versionResults, since, until)
	if err != nil {
		return nil, fmt.Errorf("store: campaign results by version: %w", err)
	}
	return rows, nil
}

var versionResults = resultsQueries{resultsByVersionAllTime, resultsByVersionSinceFromRollups, resultsByVersionPastFromGaps}

// resultsByVersionAllTime reads the per-version running totals: one row
// per version, whatever the number of sends. -1 is "no version".
const resultsByVersionAllTime = `SELECT variant, NULLIF(template_version, -1) AS template_version, sends,
		businesses_sent, businesses_clicked, clicks, segments, cost_micros
	FROM campaign_version_totals WHERE sends > 0
	ORDER BY variant, template_version NULLS FIRST`

// resultsByVersionSinceFromRollups is resultsSinceFromRollups per
// (variant, version): whole hours from campaign_version_hours, the rest of
// $1's own UTC hour from its sends (campaign_sends_sent_at_idx) and
// campaign_version_businesses' last-send indexes.
const resultsByVersionSinceFromRollups = `WITH bounds AS (
		SELECT date_trunc('hour', $1::timestamptz, 'UTC') AS first_hour,
		       date_trunc('hour', $1::timestamptz, 'UTC') + interval '1 hour' AS next_hour
	), hours AS (
		SELECT v.variant, v.template_version, SUM(v.sends) AS sends, SUM(v.segments) AS segments,
		       SUM(v.cost_micros) AS cost_micros, SUM(v.clicks) AS clicks,
		       SUM(v.businesses_sent_last) AS businesses_sent, SUM(v.businesses_clicked_last) AS businesses_clicked
		FROM campaign_version_hours v, bounds b
		WHERE v.hour > b.first_hour
		GROUP BY v.variant, v.template_version
	), first_sends AS (
		SELECT c.variant, COALESCE(c.template_version, -1) AS template_version, c.segments, c.cost_micros, c.clicks
		FROM campaign_sends c, bounds b
		WHERE c.sent_at >= $1 AND c.sent_at < b.next_hour AND c.voided_at IS NULL
	), first_hour AS (
		SELECT f.variant, f.template_version, COUNT(*) AS sends, SUM(f.segments) AS segments,
		       SUM(f.cost_micros) AS cost_micros, SUM(f.clicks) AS clicks,
		       (SELECT COUNT(*) FROM campaign_version_businesses vb
		        WHERE vb.variant = f.variant AND vb.template_version = f.template_version
		          AND vb.last_sent_at >= $1 AND vb.last_sent_at < b.next_hour) AS businesses_sent,
		       (SELECT COUNT(*) FROM campaign_version_businesses vb
		        WHERE vb.variant = f.variant AND vb.template_version = f.template_version
		          AND vb.last_clicked_at >= $1 AND vb.last_clicked_at < b.next_hour) AS businesses_clicked
		FROM first_sends f, bounds b
		GROUP BY f.variant, f.template_version, b.next_hour
	), sums AS (
		SELECT variant, template_version, SUM(sends)::bigint AS sends, SUM(segments)::bigint AS segments,
		       SUM(cost_micros)::bigint AS cost_micros, SUM(clicks)::bigint AS clicks,
		       SUM(businesses_sent)::bigint AS businesses_sent, SUM(businesses_clicked)::bigint AS businesses_clicked
		FROM (SELECT * FROM hours UNION ALL SELECT * FROM first_hour) u
		GROUP BY variant, template_version
	)
	SELECT s.variant, NULLIF(s.template_version, -1) AS template_version, s.sends, s.businesses_sent,
	       s.businesses_clicked, s.clicks, s.segments, s.cost_micros
	FROM sums s
	WHERE s.sends > 0
	ORDER BY s.variant, s.template_version`

// resultsByVersionPastFromGaps is resultsPastFromGaps per (variant,
// version): campaign_version_hours and campaign_version_gaps for the whole
// hours, the sends of the edges.
const resultsByVersionPastFromGaps = `WITH hours AS (
		SELECT v.variant, v.template_version, SUM(v.sends) AS sends, SUM(v.segments) AS segments,
		       SUM(v.cost_micros) AS cost_micros, SUM(v.clicks) AS clicks, 0 AS businesses_sent, 0 AS businesses_clicked
		FROM campaign_version_hours v
		WHERE v.hour >= $4 AND v.hour < $5
		GROUP BY v.variant, v.template_version
	), firsts AS (
		SELECT g.variant, g.template_version, 0, 0, 0, 0, SUM(g.sends), SUM(g.tapped)
		FROM campaign_version_gaps g
		WHERE g.hour >= $4 AND g.hour < $5 AND g.prev_hour < $3
		GROUP BY g.variant, g.template_version
	), carried AS (
		SELECT k.variant, k.template_version, 0, 0, 0, 0,
		       COUNT(*) FILTER (WHERE n.first_sent >= $4 AND n.first_sent < $5),
		       COUNT(*) FILTER (WHERE k.tapped AND n.first_tapped >= $4 AND n.first_tapped < $5)
		FROM (SELECT c.variant, COALESCE(c.template_version, -1) AS template_version, c.business_id,
		             bool_or(c.clicks > 0) AS tapped
		      FROM campaign_sends c
		      WHERE c.sent_at >= $3 AND c.sent_at < $1 AND c.voided_at IS NULL
		      GROUP BY 1, 2, 3) k
		CROSS JOIN LATERAL (
			SELECT MIN(n.sent_at) AS first_sent, MIN(n.sent_at) FILTER (WHERE n.clicks > 0) AS first_tapped
			FROM campaign_sends n
			WHERE n.business_id = k.business_id AND n.variant = k.variant
			  AND COALESCE(n.template_version, -1) = k.template_version AND n.sent_at >= $1 AND n.voided_at IS NULL) n
		GROUP BY k.variant, k.template_version
	), edge AS (
		SELECT c.id, c.business_id, c.variant, COALESCE(c.template_version, -1) AS template_version, c.sent_at,
		       c.segments, c.cost_micros, c.clicks
		FROM campaign_sends c
		WHERE c.sent_at >= $1 AND c.sent_at < $6 AND c.voided_at IS NULL
		UNION ALL
		SELECT c.id, c.business_id, c.variant, COALESCE(c.template_version, -1) AS template_version, c.sent_at,
		       c.segments, c.cost_micros, c.clicks
		FROM campaign_sends c
		WHERE c.sent_at >= $7 AND c.sent_at < $2 AND c.voided_at IS NULL
	), edges AS (
		SELECT e.variant, e.template_version, COUNT(*), SUM(e.segments), SUM(e.cost_micros), SUM(e.clicks),
		       COUNT(*) FILTER (WHERE NOT EXISTS (
		           SELECT 1 FROM campaign_sends p
		           WHERE p.business_id = e.business_id AND p.variant = e.variant AND p.voided_at IS NULL
		             AND COALESCE(p.template_version, -1) = e.template_version
		             AND p.sent_at >= $1 AND (p.sent_at, p.id) < (e.sent_at, e.id))),
		       COUNT(*) FILTER (WHERE e.clicks > 0 AND NOT EXISTS (
		           SELECT 1 FROM campaign_sends p
		           WHERE p.business_id = e.business_id AND p.variant = e.variant AND p.voided_at IS NULL
		             AND COALESCE(p.template_version, -1) = e.template_version
		             AND p.clicks > 0 AND p.sent_at >= $1 AND (p.sent_at, p.id) < (e.sent_at, e.id)))
		FROM edge e
		GROUP BY e.variant, e.template_version
	)
	SELECT variant, NULLIF(template_version, -1) AS template_version, SUM(sends)::bigint AS sends,
	       SUM(businesses_sent)::bigint AS businesses_sent, SUM(businesses_clicked)::bigint AS businesses_clicked,
	       SUM(clicks)::bigint AS clicks, SUM(segments)::bigint AS segments, SUM(cost_micros)::bigint AS cost_micros
	FROM (SELECT * FROM hours UNION ALL SELECT * FROM firsts UNION ALL SELECT * FROM carried
	      UNION ALL SELECT * FROM edges) u
	GROUP BY variant, template_version
	HAVING SUM(sends) > 0
	ORDER BY variant, template_version NULLS FIRST`
