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

// ClickBatch is one flush of aggregated clicks. ID identifies it across
// retries: the same batch must always be sent with the same ID.
type ClickBatch struct {
	ID   string // a UUID
	Rows []ClickRow
	// From and To bound when the batch's clicks were counted; they are the
	// "from" and "to" of its link.clicked webhooks. Zero means the flush time.
	From, To time.Time
}

// FlushClicks adds a batch of aggregated clicks and previews to the link
// totals and the daily rollup, in one statement (so one transaction). It is
// idempotent per batch ID: the ID is recorded in click_flushes by the same
// statement, so retrying a batch whose commit outcome was unknown (the
// connection broke mid-commit) adds nothing the second time. applied is
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
	// How the statement keeps its promises:
	//  - batch: ON CONFLICT DO NOTHING makes a replayed batch an empty set,
	//    and every later step reads from it, so a replay changes nothing.
	//    A replay racing its still-running first attempt waits on the
	//    uncommitted id and then sees whether that attempt committed.
	//  - locked: the short_links rows are locked in id order (the lock is
	//    taken after the sort), so two instances flushing overlapping links
	//    queue up instead of deadlocking. FOR NO KEY UPDATE is the lock the
	//    UPDATE takes anyway and lets foreign-key checks through.
	//  - daily rows are written only for links locked above, so whoever
	//    holds a link's row also owns its daily rows: no second lock order.
	//  - webhooks: one link.clicked event per link, read from totals, so it
	//    is written exactly when the counts are (see linkClickedEvents).
	err = s.db.GetContext(ctx, &applied, `WITH batch AS (
			INSERT INTO click_flushes (batch_id) VALUES ($1)
			ON CONFLICT (batch_id) DO NOTHING
			RETURNING batch_id
		), delta AS (
			SELECT d.link_id, d.day, d.clicks, d.previews
			FROM unnest($2::bigint[], $3::date[], $4::bigint[], $5::bigint[]) AS d(link_id, day, clicks, previews)
			WHERE EXISTS (SELECT 1 FROM batch)
		), locked AS (
			SELECT l.id FROM short_links l
			WHERE l.id IN (SELECT link_id FROM delta)
			ORDER BY l.id
			FOR NO KEY UPDATE
		), totals AS (
			UPDATE short_links l
			SET click_count = l.click_count + t.clicks, preview_count = l.preview_count + t.previews
			FROM (SELECT link_id, SUM(clicks) AS clicks, SUM(previews) AS previews
			      FROM delta GROUP BY link_id) t
			JOIN locked ON locked.id = t.link_id
			WHERE l.id = t.link_id
			RETURNING l.id
		), daily AS (
			INSERT INTO link_clicks_daily (link_id, day, clicks, previews)
			SELECT d.link_id, d.day, d.clicks, d.previews
			FROM delta d JOIN totals ON totals.id = d.link_id
			ORDER BY d.link_id, d.day
			ON CONFLICT (link_id, day) DO UPDATE
			SET clicks = link_clicks_daily.clicks + EXCLUDED.clicks,
			    previews = link_clicks_daily.previews + EXCLUDED.previews
		), flush_window AS (
			SELECT COALESCE($6, now()) AS from_at, COALESCE($7, now()) AS to_at
		), webhooks AS (`+linkClickedEvents+`)
		SELECT EXISTS (SELECT 1 FROM batch)`,
		b.ID, pq.Array(ids), pq.Array(days), pq.Array(clicks), pq.Array(previews), nullTime(b.From), nullTime(b.To))
	if err != nil {
		return false, fmt.Errorf("store: flush %d click rows: %w", len(b.Rows), classify(err))
	}
	return applied, nil
}

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
