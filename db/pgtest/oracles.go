package pgtest

// The oracles the results rollups are held to: what CampaignResults and
// CampaignResultsByVersion read for every window before the rollups, the
// aggregate over the sends of [$1, $2) (NULL: unbounded), each business
// counted once per variant (and version). Tests compare each rollup read
// with them; the results benchmark times them beside the rollups.

// ResultsFromSends aggregates the window's sends, grouped by (variant,
// business) first, with hashing, rather than COUNT(DISTINCT), which sorts
// every send of the window.
const ResultsFromSends = `SELECT variant, SUM(sends) AS sends,
		COUNT(*) AS businesses_sent, COUNT(*) FILTER (WHERE clicks > 0) AS businesses_clicked,
		SUM(clicks) AS clicks, SUM(segments) AS segments, SUM(cost_micros) AS cost_micros
	FROM (SELECT variant, business_id, COUNT(*) AS sends, SUM(clicks) AS clicks,
	             SUM(segments) AS segments, SUM(cost_micros) AS cost_micros
	      FROM campaign_sends
	      WHERE ($1::timestamptz IS NULL OR sent_at >= $1) AND ($2::timestamptz IS NULL OR sent_at < $2)
	        AND voided_at IS NULL
	      GROUP BY variant, business_id) per_business
	GROUP BY variant ORDER BY variant`

// ResultsByVersionFromSends aggregates the window's sends, grouped by
// (variant, version, business) first, with hashing (see ResultsFromSends).
const ResultsByVersionFromSends = `SELECT variant, template_version, SUM(sends) AS sends,
		COUNT(*) AS businesses_sent, COUNT(*) FILTER (WHERE clicks > 0) AS businesses_clicked,
		SUM(clicks) AS clicks, SUM(segments) AS segments, SUM(cost_micros) AS cost_micros
	FROM (SELECT variant, template_version, business_id, COUNT(*) AS sends, SUM(clicks) AS clicks,
	             SUM(segments) AS segments, SUM(cost_micros) AS cost_micros
	      FROM campaign_sends
	      WHERE ($1::timestamptz IS NULL OR sent_at >= $1) AND ($2::timestamptz IS NULL OR sent_at < $2)
	        AND voided_at IS NULL
	      GROUP BY variant, template_version, business_id) per_business
	GROUP BY variant, template_version ORDER BY variant, template_version NULLS FIRST`

// VariantBusinessesFromSends is VariantBusinesses aggregated from the
// sends of variant $1 in [$2, $3) (NULL: unbounded), tapped first unless
// $4 (tapped only), newest send first, ties by business; at most $5.
const VariantBusinessesFromSends = `SELECT c.business_id::text, b.name, b.phone, COUNT(*) AS sends,
		MAX(c.sent_at) AS last_sent_at, SUM(c.clicks)::bigint AS taps
	FROM campaign_sends c JOIN businesses b ON b.id = c.business_id
	WHERE c.variant = $1 AND c.voided_at IS NULL
	  AND ($2::timestamptz IS NULL OR c.sent_at >= $2) AND ($3::timestamptz IS NULL OR c.sent_at < $3)
	GROUP BY c.business_id, b.name, b.phone
	HAVING NOT $4 OR SUM(c.clicks) > 0
	ORDER BY SUM(c.clicks) > 0 DESC, MAX(c.sent_at) DESC, c.business_id DESC
	LIMIT $5`
