package db

// The statements VoidSend runs on each rollup set (voidFromRollup), in the
// order it runs them; keys first in the parameters (see rollup). A send
// recorded before versions were kept has version -1 in the version set.

// voidLockVariantBusiness locks the (variant, business) row before what
// remains is read.
const voidLockVariantBusiness = `SELECT clicks, last_sent_at, last_clicked_at FROM campaign_variant_businesses
	WHERE variant = $1 AND business_id = $2 FOR NO KEY UPDATE`

// voidLockVersionBusiness: the same for (variant, version, business).
const voidLockVersionBusiness = `SELECT clicks, last_sent_at, last_clicked_at FROM campaign_version_businesses
	WHERE variant = $1 AND template_version = $2 AND business_id = $3 FOR NO KEY UPDATE`

// voidVariantRemaining reads the sends of the variant to the business that
// remain (campaign_sends_business_sent_idx), the voided one excluded.
const voidVariantRemaining = `SELECT COUNT(*) AS n, MAX(sent_at) AS last_sent_at,
		MAX(sent_at) FILTER (WHERE clicks > 0) AS last_clicked_at
	FROM campaign_sends WHERE business_id = $2 AND variant = $1 AND voided_at IS NULL`

// voidVersionRemaining: the same for (variant, version, business).
const voidVersionRemaining = `SELECT COUNT(*) AS n, MAX(sent_at) AS last_sent_at,
		MAX(sent_at) FILTER (WHERE clicks > 0) AS last_clicked_at
	FROM campaign_sends
	WHERE business_id = $3 AND variant = $1 AND COALESCE(template_version, -1) = $2 AND voided_at IS NULL`

// voidDeleteVariantBusiness removes the row of a business no send of the
// variant remains to.
const voidDeleteVariantBusiness = `DELETE FROM campaign_variant_businesses WHERE variant = $1 AND business_id = $2`

// voidDeleteVersionBusiness: the same for (variant, version, business).
const voidDeleteVersionBusiness = `DELETE FROM campaign_version_businesses
	WHERE variant = $1 AND template_version = $2 AND business_id = $3`

// voidUpdateVariantBusiness takes the send's clicks off the row and sets
// its last-send times to those of the sends that remain (prev_* keep the
// ones before, as elsewhere).
const voidUpdateVariantBusiness = `UPDATE campaign_variant_businesses
	SET clicks = GREATEST(clicks - $3, 0), prev_sent_at = last_sent_at, prev_clicked_at = last_clicked_at,
	    last_sent_at = $4, last_clicked_at = $5
	WHERE variant = $1 AND business_id = $2`

// voidUpdateVersionBusiness: the same for (variant, version, business).
const voidUpdateVersionBusiness = `UPDATE campaign_version_businesses
	SET clicks = GREATEST(clicks - $4, 0), prev_sent_at = last_sent_at, prev_clicked_at = last_clicked_at,
	    last_sent_at = $5, last_clicked_at = $6
	WHERE variant = $1 AND template_version = $2 AND business_id = $3`

// voidVariantTotals takes the send (and the business, the click, when it
// was its last) out of the variant's running totals.
const voidVariantTotals = `UPDATE campaign_variant_totals
	SET sends = sends - 1, businesses_sent = businesses_sent - $2, businesses_clicked = businesses_clicked - $3,
	    clicks = clicks - $4, segments = segments - $5, cost_micros = cost_micros - $6
	WHERE variant = $1`

// voidVersionTotals: the same for (variant, version).
const voidVersionTotals = `UPDATE campaign_version_totals
	SET sends = sends - 1, businesses_sent = businesses_sent - $3, businesses_clicked = businesses_clicked - $4,
	    clicks = clicks - $5, segments = segments - $6, cost_micros = cost_micros - $7
	WHERE variant = $1 AND template_version = $2`

// voidVariantHours adds the void's deltas per hour (voidFromHours), in
// hour order.
const voidVariantHours = `INSERT INTO campaign_variant_hours AS v
		(variant, hour, sends, segments, cost_micros, clicks, businesses_sent_last, businesses_clicked_last)
	SELECT $1, h.* FROM unnest($2::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
	                           $7::bigint[], $8::bigint[]) AS h
	ORDER BY 2
	ON CONFLICT (variant, hour) DO UPDATE
	SET sends = v.sends + EXCLUDED.sends, segments = v.segments + EXCLUDED.segments,
	    cost_micros = v.cost_micros + EXCLUDED.cost_micros, clicks = v.clicks + EXCLUDED.clicks,
	    businesses_sent_last = v.businesses_sent_last + EXCLUDED.businesses_sent_last,
	    businesses_clicked_last = v.businesses_clicked_last + EXCLUDED.businesses_clicked_last`

// voidVersionHours: the same for (variant, version).
const voidVersionHours = `INSERT INTO campaign_version_hours AS v
		(variant, template_version, hour, sends, segments, cost_micros, clicks, businesses_sent_last, businesses_clicked_last)
	SELECT $1, $2, h.* FROM unnest($3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
	                               $8::bigint[], $9::bigint[]) AS h
	ORDER BY 3
	ON CONFLICT (variant, template_version, hour) DO UPDATE
	SET sends = v.sends + EXCLUDED.sends, segments = v.segments + EXCLUDED.segments,
	    cost_micros = v.cost_micros + EXCLUDED.cost_micros, clicks = v.clicks + EXCLUDED.clicks,
	    businesses_sent_last = v.businesses_sent_last + EXCLUDED.businesses_sent_last,
	    businesses_clicked_last = v.businesses_clicked_last + EXCLUDED.businesses_clicked_last`
