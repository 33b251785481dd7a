package db

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// ClickRow is what one link gathered on one day since the last flush.
type ClickRow struct {
	LinkID   int64
	Day      time.Time // the UTC day; only the date part is used
	Clicks   int64
	Previews int64
}

// TapRow is Clicks recipient taps at one instant (millisecond resolution)
// on one slug: the tapped link, and the link that counted them (its
// survivor when the tapped link is superseded, else the same link). Taps
// are what attribution to sends and forwarded counts are made from; their
// clicks are also in the batch's Rows (under Counted).
type TapRow struct {
	Tapped  int64
	Counted int64
	At      time.Time
	Clicks  int64
}

// ClickBatch is one flush of aggregated clicks. ID identifies it across
// retries: the same batch must always be sent with the same ID.
type ClickBatch struct {
	ID   string // a UUID
	Rows []ClickRow
	Taps []TapRow
	// From and To bound when the batch's clicks were counted; they are the
	// "from" and "to" of its link.clicked webhooks. Zero means the flush time.
	From, To time.Time
}

// FlushClicks adds a batch of aggregated clicks and previews to the link
// totals and the daily rollup, and attributes its taps to campaign sends,
// in one statement (so one transaction). It is idempotent per batch ID: the
// ID is recorded in click_flushes by the same statement, so retrying a batch
// whose commit outcome was unknown (the connection broke mid-commit) adds
// nothing the second time, and a tap is attributed exactly once. applied is
// false when the batch had already been applied. Rows of links that no
// longer exist are skipped.
func (s *Store) FlushClicks(ctx context.Context, b ClickBatch) (applied bool, err error) {
	ids := make([]int64, len(b.Rows))
	days := make([]string, len(b.Rows))
	clicks := make([]int64, len(b.Rows))
	previews := make([]int64, len(b.Rows))
	for i, r := range b.Rows {
		ids[i], days[i], clicks[i], previews[i] = r.LinkID, r.Day.UTC().Format(time.DateOnly), r.Clicks, r.Previews
	}
	tapped := make([]int64, len(b.Taps))
	counted := make([]int64, len(b.Taps))
	at := make([]string, len(b.Taps))
	taps := make([]int64, len(b.Taps))
	for i, t := range b.Taps {
		tapped[i], counted[i], at[i], taps[i] = t.Tapped, t.Counted, t.At.UTC().Format(time.RFC3339Nano), t.Clicks
	}
	err = s.db.GetContext(ctx, &applied, flushStatement,
		b.ID, pq.Array(ids), pq.Array(days), pq.Array(clicks), pq.Array(previews),
		pq.Array(tapped), pq.Array(counted), pq.Array(at), pq.Array(taps), nullTime(b.From), nullTime(b.To),
		trafficShard(b.ID))
	if err != nil {
		return false, fmt.Errorf("store: flush %d click rows, %d taps: %w", len(b.Rows), len(b.Taps), classify(err))
	}
	return applied, nil
}

// flushStatement is FlushClicks' one statement. How it keeps its promises:
//   - merged: a link merged into another since the instance cached it
//     (its cache learns within a second, later during a feed outage) is
//     counted on the link it was merged into, as a forwarded tap, so a
//     stale cache cannot split counts; one level, as heals record it.
//   - batch: ON CONFLICT DO NOTHING makes a replayed batch an empty set,
//     and every later step reads from it, so a replay changes nothing.
//     A replay racing its still-running first attempt waits on the
//     uncommitted id and then sees whether that attempt committed.
//   - locked: the short_links rows (counted links, and superseded links
//     whose forwarded_clicks move) are locked in id order (the lock is
//     taken after the sort), so two instances flushing overlapping links
//     queue up instead of deadlocking. FOR NO KEY UPDATE is the lock the
//     UPDATE takes anyway and lets foreign-key checks through.
//   - daily rows are written only for links locked above, so whoever
//     holds a link's row also owns its daily rows: no second lock order.
//   - webhooks: one link.clicked event per link, read from totals, so it
//     is written exactly when the counts are (see linkClickedEvents).
//   - attribution (see sends.go): each tap goes to the latest send at or
//     before it among the sends that embedded the tapped or counting link
//     and those of the businesses owning them. Send rows are locked in id
//     order, then the per-variant rows in key order, after the links.
//   - traffic: what the links gained (read from totals, so only rows that
//     were applied) is added to one shard of traffic_totals, the shard
//     picked by the batch ID. Its row is locked last: the update reads
//     totals and variants (the count is there only to make it wait for
//     them), so every flush takes the links, sends and variants first and
//     two flushes on one shard cannot wait on each other in a cycle.
const flushStatement = `WITH batch AS (
		INSERT INTO click_flushes (batch_id) VALUES ($1)
		ON CONFLICT (batch_id) DO NOTHING
		RETURNING batch_id
	), merged AS (
		SELECT l.id, l.superseded_by AS survivor FROM short_links l
		WHERE l.superseded_by IS NOT NULL AND l.id = ANY ($2::bigint[] || $7::bigint[])
	), delta AS (
		SELECT COALESCE(m.survivor, d.link_id) AS link_id, d.day,
		       SUM(d.clicks)::bigint AS clicks, SUM(d.previews)::bigint AS previews
		FROM unnest($2::bigint[], $3::date[], $4::bigint[], $5::bigint[]) AS d(link_id, day, clicks, previews)
		LEFT JOIN merged m ON m.id = d.link_id
		WHERE EXISTS (SELECT 1 FROM batch)
		GROUP BY 1, 2
	), taps AS (
		SELECT t.tapped, COALESCE(m.survivor, t.counted) AS counted, t.at, t.clicks
		FROM unnest($6::bigint[], $7::bigint[], $8::timestamptz[], $9::bigint[]) AS t(tapped, counted, at, clicks)
		LEFT JOIN merged m ON m.id = t.counted
		WHERE EXISTS (SELECT 1 FROM batch)
	), per_link AS (
		SELECT link_id, SUM(clicks) AS clicks, SUM(previews) AS previews, SUM(forwarded) AS forwarded
		FROM (SELECT link_id, clicks, previews, 0 AS forwarded FROM delta
		      UNION ALL
		      SELECT tapped, 0, 0, clicks FROM taps WHERE tapped <> counted) u
		GROUP BY link_id
	), locked AS (
		SELECT l.id FROM short_links l
		WHERE l.id IN (SELECT link_id FROM per_link)
		ORDER BY l.id
		FOR NO KEY UPDATE
	), totals AS (
		UPDATE short_links l
		SET click_count = l.click_count + t.clicks, preview_count = l.preview_count + t.previews,
		    forwarded_clicks = l.forwarded_clicks + t.forwarded
		FROM per_link t
		JOIN locked ON locked.id = t.link_id
		WHERE l.id = t.link_id
		RETURNING l.id, t.clicks, t.previews
	), daily AS (
		INSERT INTO link_clicks_daily (link_id, day, clicks, previews)
		SELECT d.link_id, d.day, d.clicks, d.previews
		FROM delta d JOIN totals ON totals.id = d.link_id
		ORDER BY d.link_id, d.day
		ON CONFLICT (link_id, day) DO UPDATE
		SET clicks = link_clicks_daily.clicks + EXCLUDED.clicks,
		    previews = link_clicks_daily.previews + EXCLUDED.previews
	), pairs AS (
		SELECT p.tapped, p.counted, ARRAY[p.tapped, p.counted] AS links,
		       ARRAY(SELECT l.business_id FROM short_links l
		             WHERE l.id IN (p.tapped, p.counted) AND l.business_id IS NOT NULL) AS owners
		FROM (SELECT DISTINCT tapped, counted FROM taps) p
		WHERE EXISTS (SELECT 1 FROM campaign_sends c WHERE c.link_id IN (p.tapped, p.counted))
		   OR EXISTS (SELECT 1 FROM short_links l JOIN campaign_sends c ON c.business_id = l.business_id
		              WHERE l.id IN (p.tapped, p.counted))
	), attributed AS (
		SELECT s.id AS send_id, SUM(t.clicks) AS clicks
		FROM taps t
		JOIN pairs p ON p.tapped = t.tapped AND p.counted = t.counted
		CROSS JOIN LATERAL (
			SELECT c.id FROM campaign_sends c
			WHERE (c.link_id = ANY (p.links) OR c.business_id = ANY (p.owners)) AND c.sent_at <= t.at
			  AND c.voided_at IS NULL -- a voided send earns no taps (outreach.go VoidSend)
			ORDER BY c.sent_at DESC, c.id DESC
			LIMIT 1) s
		GROUP BY s.id
	), sends_locked AS (
		SELECT c.id FROM campaign_sends c
		WHERE c.id IN (SELECT send_id FROM attributed)
		ORDER BY c.id
		FOR NO KEY UPDATE
	), sends AS (
		UPDATE campaign_sends c SET clicks = c.clicks + a.clicks
		FROM attributed a JOIN sends_locked k ON k.id = a.send_id
		WHERE c.id = a.send_id
		RETURNING c.variant, c.business_id, a.clicks
	), per_business AS (
		SELECT variant, business_id, SUM(clicks) AS clicks FROM sends GROUP BY variant, business_id
	), businesses AS (
		UPDATE campaign_variant_businesses vb SET clicks = vb.clicks + pb.clicks
		FROM (SELECT pb.*, vb.clicks AS before FROM per_business pb
		      JOIN campaign_variant_businesses vb USING (variant, business_id)
		      ORDER BY variant, business_id
		      FOR NO KEY UPDATE OF vb) pb
		WHERE vb.variant = pb.variant AND vb.business_id = pb.business_id
		RETURNING vb.variant, pb.clicks, pb.before = 0 AS first
	), variants AS (
		UPDATE campaign_variant_totals vt
		SET clicks = vt.clicks + v.clicks, businesses_clicked = vt.businesses_clicked + v.first
		FROM (SELECT variant, SUM(clicks) AS clicks, COUNT(*) FILTER (WHERE first) AS first
		      FROM businesses GROUP BY variant) v
		JOIN (SELECT variant FROM campaign_variant_totals
		      WHERE variant IN (SELECT variant FROM businesses)
		      ORDER BY variant
		      FOR NO KEY UPDATE) k USING (variant)
		WHERE vt.variant = v.variant
		RETURNING vt.variant
	), traffic AS (
		UPDATE traffic_totals tt
		SET clicks = tt.clicks + a.clicks, previews = tt.previews + a.previews
		FROM (SELECT SUM(clicks) AS clicks, SUM(previews) AS previews FROM totals) a
		WHERE tt.shard = $12 AND a.clicks IS NOT NULL
		  AND (SELECT count(*) FROM variants) >= 0
	), flush_window AS (
		SELECT COALESCE($10, now()) AS from_at, COALESCE($11, now()) AS to_at
	), webhooks AS (` + linkClickedEvents + `)
	SELECT EXISTS (SELECT 1 FROM batch)`

// PruneClickFlushes forgets batch IDs recorded before cutoff; a batch is
// retried until it succeeds, so only ancient IDs can go.
func (s *Store) PruneClickFlushes(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM click_flushes WHERE flushed_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: prune click flushes: %w", classify(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// NewBatchID returns a random (version 4) UUID for a ClickBatch.
func NewBatchID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
