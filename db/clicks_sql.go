package db

// The statements of a click flush (FlushClicks), in the order it runs them.
// Each one that updates rows locks them first, sorted by key, in a CTE the
// UPDATE joins (locking happens as the sorted rows are read, so in key
// order); see FlushClicks for the order across tables.

// flushSetTimeout gives the flush's transaction its own statement timeout
// (FLUSH_STATEMENT_TIMEOUT, in milliseconds), apart from the pool's.
const flushSetTimeout = `SELECT set_config('statement_timeout', $1, true)`

// flushClaimBatch records the batch ID. It returns no row when the ID is
// already there: the batch was applied (or abandoned) before, and the
// flush stops. A retry racing its own first attempt, still running, waits
// on the uncommitted ID and then sees whether that attempt committed.
const flushClaimBatch = `INSERT INTO click_flushes (batch_id) VALUES ($1)
	ON CONFLICT (batch_id) DO NOTHING
	RETURNING batch_id`

// flushMergedLinks lists the batch's links that were merged into another
// (superseded_by): their counts go to the survivor. Read without a lock:
// a merge committing meanwhile is seen by the next flush.
const flushMergedLinks = `SELECT id, superseded_by AS survivor FROM short_links
	WHERE superseded_by IS NOT NULL AND id = ANY ($1::bigint[])`

// flushAddLinkCounts adds clicks, previews and forwarded taps to
// link_counters (a narrow row: short_links and its indexes are not
// written), locking the rows in link id order. It records what moved in
// the clicks order, [before, after] per link merged into one multirange,
// for the listing cursors (link_count_moves, see linkCursorStale), and
// returns the links it could not count, those without a counters row
// (flushAddMissingCounters takes them). They are nearly always none;
// returning the counted ones sent a row per link back to be read.
const flushAddLinkCounts = `WITH d AS (
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])
			AS d(link_id, clicks, previews, forwarded)
	), locked AS (
		SELECT c.link_id FROM link_counters c
		WHERE c.link_id IN (SELECT link_id FROM d)
		ORDER BY c.link_id
		FOR NO KEY UPDATE
	), counted AS (
		UPDATE link_counters c
		SET click_count = c.click_count + d.clicks, preview_count = c.preview_count + d.previews,
		    forwarded_clicks = c.forwarded_clicks + d.forwarded
		FROM d JOIN locked USING (link_id)
		WHERE c.link_id = d.link_id
		RETURNING c.link_id, c.click_count - d.clicks AS before, c.click_count AS after
	), moves AS (
		INSERT INTO link_count_moves (moved)
		SELECT range_agg(int8range(before, after, '[]')) FROM counted
		WHERE after > before
		HAVING count(*) > 0
	)
	SELECT d.link_id FROM d WHERE NOT EXISTS (SELECT FROM counted WHERE counted.link_id = d.link_id)`

// flushAddMissingCounters gives the batch's links that have no counters
// row, and still exist, their row with these counts (a link loaded with
// triggers off, say by a data-only restore, or whose row was deleted by
// hand), recording the move like flushAddLinkCounts, and returns them.
// Links that no longer exist are left out. Only the rows flushAddLinkCounts
// found missing come here, in link id order; a link deleted between the
// check and the insert fails the insert's key, and the batch is retried.
const flushAddMissingCounters = `WITH d AS (
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])
			AS d(link_id, clicks, previews, forwarded)
	), added AS (
		INSERT INTO link_counters AS c (link_id, click_count, preview_count, forwarded_clicks)
		SELECT * FROM d WHERE EXISTS (SELECT FROM short_links l WHERE l.id = d.link_id)
		ORDER BY link_id
		ON CONFLICT (link_id) DO UPDATE
		SET click_count = c.click_count + EXCLUDED.click_count, preview_count = c.preview_count + EXCLUDED.preview_count,
		    forwarded_clicks = c.forwarded_clicks + EXCLUDED.forwarded_clicks
		RETURNING c.link_id, c.click_count AS after
	), moves AS (
		INSERT INTO link_count_moves (moved)
		SELECT range_agg(int8range(added.after - d.clicks, added.after, '[]')) FROM added JOIN d USING (link_id)
		WHERE d.clicks > 0
		HAVING count(*) > 0
	)
	SELECT link_id FROM added`

// flushAddDaily adds the per-day rows of the links just counted; their
// link_counters rows are locked above, so whoever holds a link's counters
// owns its daily rows too (no second lock order). That lock is also what
// keeps a daily row's link in existence: the table has no foreign key,
// whose check per row was a quarter of a cold flush (migration 00045).
// Keys are unique in the batch (merged in Go), so ON CONFLICT never meets
// a row twice.
const flushAddDaily = `INSERT INTO link_clicks_daily (link_id, day, clicks, previews)
	SELECT * FROM unnest($1::bigint[], $2::date[], $3::bigint[], $4::bigint[])
	ORDER BY 1, 2
	ON CONFLICT (link_id, day) DO UPDATE
	SET clicks = link_clicks_daily.clicks + EXCLUDED.clicks,
	    previews = link_clicks_daily.previews + EXCLUDED.previews`

// flushAttributeTaps finds the send each tap answers: the latest send at or
// before the tap whose link is the tapped link or the link counting it
// (the survivor the tapped link was merged into). A tap on any other link
// of the business answers no send: it counts for the link and the
// business, never for a variant. Each tap is one backward walk of
// campaign_sends_link_sent_idx per link. A voided send earns no taps
// (outreach.go VoidSend): the walk steps past it. Read only.
const flushAttributeTaps = `SELECT s.id::text AS send_id, SUM(t.clicks)::bigint AS clicks
	FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[]) AS t(tapped, counted, at, clicks)
	CROSS JOIN LATERAL (
		SELECT c.id, c.sent_at FROM (
			(SELECT id, sent_at FROM campaign_sends
			 WHERE link_id = t.tapped AND sent_at <= t.at AND voided_at IS NULL
			 ORDER BY sent_at DESC, id DESC LIMIT 1)
			UNION ALL
			(SELECT id, sent_at FROM campaign_sends
			 WHERE link_id = t.counted AND t.counted <> t.tapped AND sent_at <= t.at AND voided_at IS NULL
			 ORDER BY sent_at DESC, id DESC LIMIT 1)
		) c
		ORDER BY c.sent_at DESC, c.id DESC
		LIMIT 1) s
	GROUP BY s.id`

// flushAddSendClicks adds attributed clicks to the sends, locked in id
// order, and returns what each gained with its variant, template version
// (-1: none, as the version rollups key it), business and sent_at.
// (before is 0 for a send tapped for the first time: the gap rollups move
// it into its business's chain of tapped sends.)
// A send voided between the attribution and this lock (VoidSend locks the
// send first) is rechecked on its new row and gains nothing.
const flushAddSendClicks = `WITH d AS (
		SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS d(id, clicks)
	), locked AS (
		SELECT c.id FROM campaign_sends c
		WHERE c.id IN (SELECT id FROM d)
		ORDER BY c.id
		FOR NO KEY UPDATE
	)
	UPDATE campaign_sends c SET clicks = c.clicks + d.clicks
	FROM d JOIN locked USING (id)
	WHERE c.id = d.id AND c.voided_at IS NULL
	RETURNING c.id::text, c.variant, COALESCE(c.template_version, -1) AS template_version, c.business_id::text, c.sent_at,
	          c.clicks - d.clicks AS before, d.clicks`

// flushAddVariantBusinessClicks adds clicks per (variant, business), locked
// in that order; first is true where the business had no click on the
// variant before, which is how businesses_clicked counts it once. It moves
// last_clicked_at to the latest sent_at of the sends just tapped (results
// windows count the businesses that clicked with it), returning the hour
// it was in before (prev_clicked_at) and is in now.
const flushAddVariantBusinessClicks = `WITH d AS (
		SELECT * FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::timestamptz[])
			AS d(variant, business_id, clicks, clicked_at)
	), locked AS (
		SELECT vb.variant, vb.business_id FROM campaign_variant_businesses vb
		JOIN d USING (variant, business_id)
		ORDER BY vb.variant, vb.business_id
		FOR NO KEY UPDATE OF vb
	)
	UPDATE campaign_variant_businesses vb
	SET clicks = vb.clicks + d.clicks, prev_clicked_at = vb.last_clicked_at,
	    last_clicked_at = GREATEST(vb.last_clicked_at, d.clicked_at)
	FROM d JOIN locked USING (variant, business_id)
	WHERE vb.variant = d.variant AND vb.business_id = d.business_id
	RETURNING vb.variant, d.clicks, vb.clicks = d.clicks AS first,
	          date_trunc('hour', vb.prev_clicked_at, 'UTC') AS prev_hour,
	          date_trunc('hour', vb.last_clicked_at, 'UTC') AS last_hour`

// flushAddVariantClicks adds clicks and newly clicking businesses to the
// per-variant running totals, locked in variant order.
const flushAddVariantClicks = `WITH d AS (
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS d(variant, clicks, first)
	), locked AS (
		SELECT t.variant FROM campaign_variant_totals t
		WHERE t.variant IN (SELECT variant FROM d)
		ORDER BY t.variant
		FOR NO KEY UPDATE
	)
	UPDATE campaign_variant_totals t
	SET clicks = t.clicks + d.clicks, businesses_clicked = t.businesses_clicked + d.first
	FROM d JOIN locked USING (variant)
	WHERE t.variant = d.variant`

// flushAddVariantHourClicks adds clicks to the per-variant, per-hour rollup
// of sends (keyed by the UTC hour the send was sent: results windows select
// sends by sent_at), and moves businesses whose latest tapped send changed
// hour, inserted in (variant, hour) order. RecordSend creates
// the row with the day's first send; the upsert only covers a row removed
// by hand.
const flushAddVariantHourClicks = `INSERT INTO campaign_variant_hours AS v (variant, hour, clicks, businesses_clicked_last)
	SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bigint[], $4::bigint[])
	ORDER BY 1, 2
	ON CONFLICT (variant, hour) DO UPDATE
	SET clicks = v.clicks + EXCLUDED.clicks,
	    businesses_clicked_last = v.businesses_clicked_last + EXCLUDED.businesses_clicked_last`

// flushAddVersionBusinessClicks is flushAddVariantBusinessClicks for the
// (variant, template version, business) rows (campaign_version_businesses),
// locked in that order.
const flushAddVersionBusinessClicks = `WITH d AS (
		SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::bigint[], $5::timestamptz[])
			AS d(variant, template_version, business_id, clicks, clicked_at)
	), locked AS (
		SELECT vb.variant, vb.template_version, vb.business_id FROM campaign_version_businesses vb
		JOIN d USING (variant, template_version, business_id)
		ORDER BY vb.variant, vb.template_version, vb.business_id
		FOR NO KEY UPDATE OF vb
	)
	UPDATE campaign_version_businesses vb
	SET clicks = vb.clicks + d.clicks, prev_clicked_at = vb.last_clicked_at,
	    last_clicked_at = GREATEST(vb.last_clicked_at, d.clicked_at)
	FROM d JOIN locked USING (variant, template_version, business_id)
	WHERE vb.variant = d.variant AND vb.template_version = d.template_version AND vb.business_id = d.business_id
	RETURNING vb.variant, vb.template_version, d.clicks, vb.clicks = d.clicks AS first,
	          date_trunc('hour', vb.prev_clicked_at, 'UTC') AS prev_hour,
	          date_trunc('hour', vb.last_clicked_at, 'UTC') AS last_hour`

// flushAddVersionClicks is flushAddVariantClicks for the per-version
// running totals (campaign_version_totals), locked in (variant, version)
// order.
const flushAddVersionClicks = `WITH d AS (
		SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[]) AS d(variant, template_version, clicks, first)
	), locked AS (
		SELECT t.variant, t.template_version FROM campaign_version_totals t
		JOIN d USING (variant, template_version)
		ORDER BY t.variant, t.template_version
		FOR NO KEY UPDATE OF t
	)
	UPDATE campaign_version_totals t
	SET clicks = t.clicks + d.clicks, businesses_clicked = t.businesses_clicked + d.first
	FROM d JOIN locked USING (variant, template_version)
	WHERE t.variant = d.variant AND t.template_version = d.template_version`

// flushAddVersionHourClicks is flushAddVariantHourClicks for the
// per-version hour rollup (campaign_version_hours), in (variant, version,
// hour) order.
const flushAddVersionHourClicks = `INSERT INTO campaign_version_hours AS v (variant, template_version, hour, clicks, businesses_clicked_last)
	SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::bigint[], $5::bigint[])
	ORDER BY 1, 2, 3
	ON CONFLICT (variant, template_version, hour) DO UPDATE
	SET clicks = v.clicks + EXCLUDED.clicks,
	    businesses_clicked_last = v.businesses_clicked_last + EXCLUDED.businesses_clicked_last`

// flushAddTraffic adds what the links gained to one shard of
// traffic_totals, picked by the batch ID, so instances flushing at the
// same moment rarely queue on one row. Locked last of the counted rows.
const flushAddTraffic = `UPDATE traffic_totals SET clicks = clicks + $1, previews = previews + $2 WHERE shard = $3`

// flushLinkClickedEvents queues one link.clicked event per counted link
// for every enabled endpoint (inserts only: no row lock is waited for).
// $1 is the batch ID, from which the webhook-id is derived; $5/$6 the
// window the clicks were counted in (NULL: the flush time). With no
// endpoint enabled (most installations) the first condition, evaluated
// once, ends the statement before any link is read.
const flushLinkClickedEvents = `INSERT INTO webhook_deliveries (endpoint_id, msg_id, event_type, payload)
	SELECT e.id, 'msg_' || replace($1::text, '-', '') || '_' || l.id, 'link.clicked',
	       webhook_envelope('link.clicked', now(), jsonb_build_object(
	           'slug', l.slug, 'destination_url', l.destination_url, 'link_type', l.link_type,
	           'business_id', l.business_id, 'clicks', t.clicks, 'previews', t.previews,
	           'from', webhook_time(COALESCE($5::timestamptz, now())),
	           'to', webhook_time(COALESCE($6::timestamptz, now()))))
	FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS t(link_id, clicks, previews)
	JOIN short_links l ON l.id = t.link_id
	CROSS JOIN webhook_endpoints e
	WHERE EXISTS (SELECT FROM webhook_endpoints WHERE enabled) AND e.enabled`

// pruneLinkCountMoves forgets moves older than twice the cursor's lifetime
// ($1 in milliseconds): no cursor still accepted can need them.
const pruneLinkCountMoves = `DELETE FROM link_count_moves WHERE moved_at < now() - make_interval(secs => $1::bigint / 1000.0)`
