package db

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
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
// counters and the daily rollups, and attributes its taps to campaign
// sends, in one transaction of named statements (clicks_sql.go), each
// bounded by Options.FlushStatementTimeout. It is idempotent per batch ID:
// the ID is claimed in click_flushes first, so retrying a batch whose
// commit outcome was unknown (the connection broke mid-commit) adds
// nothing the second time, and a tap is attributed exactly once. applied
// is false when the batch had already been applied (or abandoned, see
// AbandonClickBatch). Rows of links that no longer exist are skipped.
//
// Lock order. Every row lock is taken by a statement that locks its table's
// rows sorted by key (SELECT … ORDER BY key FOR NO KEY UPDATE) before it
// updates them, and the statements run in this order:
//
//	click_flushes (the batch ID) → link_counters (link id; then, in id
//	order, the rows of links found without one, flushAddMissingCounters) →
//	link_clicks_daily (link id, day) → campaign_sends (send id) →
//	campaign_variant_businesses (variant, business) →
//	campaign_variant_totals (variant) → campaign_variant_hours (variant, hour) →
//	campaign_version_businesses (variant, version, business) →
//	campaign_version_totals (variant, version) →
//	campaign_version_hours (variant, version, hour) →
//	traffic_totals (one shard) → webhook_deliveries (inserts only)
//
// So two flushes touching the same rows queue in the same order and
// cannot deadlock; RecordSend takes variant businesses, then totals, then
// hours, then the same three per version, the same way round, and VoidSend
// the send and then those six (rollups.go). The order does not depend on
// how PostgreSQL runs a statement: each statement locks one table.
func (s *Store) FlushClicks(ctx context.Context, b ClickBatch) (applied bool, err error) {
	err = s.inFlushTx(ctx, func(tx *sqlx.Tx) error {
		applied, err = flushBatch(ctx, tx, b)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: flush %d click rows, %d taps: %w", len(b.Rows), len(b.Taps), err)
	}
	return applied, nil
}

// inFlushTx runs fn in a transaction whose statements are bounded by the
// flush's own statement timeout, and commits it when fn succeeds.
func (s *Store) inFlushTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if s.flushTimeout > 0 {
		if _, err := tx.ExecContext(ctx, flushSetTimeout, strconv.FormatInt(s.flushTimeout.Milliseconds(), 10)); err != nil {
			return classify(err)
		}
	}
	if err := fn(tx); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}

// linkDelta is what a flush adds to one link's counters.
type linkDelta struct{ clicks, previews, forwarded int64 }

// dayKey is one row of link_clicks_daily.
type dayKey struct {
	link int64
	day  string // YYYY-MM-DD
}

// flushBatch runs the statements of one flush inside tx, in lock order.
func flushBatch(ctx context.Context, tx *sqlx.Tx, b ClickBatch) (bool, error) {
	var claimed []string
	if err := tx.SelectContext(ctx, &claimed, flushClaimBatch, b.ID); err != nil || len(claimed) == 0 {
		return false, err
	}
	survivors, err := flushSurvivors(ctx, tx, b)
	if err != nil {
		return false, err
	}
	resolve := func(id int64) int64 {
		if s, ok := survivors[id]; ok {
			return s
		}
		return id
	}

	// What each link gains: rows move to the survivor of a merged link,
	// and a tap whose slug is not the counting link's is forwarded by it.
	perLink := map[int64]*linkDelta{}
	delta := func(id int64) *linkDelta {
		d := perLink[id]
		if d == nil {
			d = &linkDelta{}
			perLink[id] = d
		}
		return d
	}
	daily := map[dayKey]*linkDelta{}
	for _, r := range b.Rows {
		id := resolve(r.LinkID)
		d := delta(id)
		d.clicks, d.previews = d.clicks+r.Clicks, d.previews+r.Previews
		k := dayKey{link: id, day: r.Day.UTC().Format(time.DateOnly)}
		if daily[k] == nil {
			daily[k] = &linkDelta{}
		}
		daily[k].clicks, daily[k].previews = daily[k].clicks+r.Clicks, daily[k].previews+r.Previews
	}
	taps := make([]TapRow, len(b.Taps))
	for i, t := range b.Taps {
		t.Counted = resolve(t.Counted)
		if t.Tapped != t.Counted {
			delta(t.Tapped).forwarded += t.Clicks
		}
		taps[i] = t
	}

	counted, err := flushLinkCounts(ctx, tx, perLink)
	if err != nil {
		return false, err
	}
	if err := flushDaily(ctx, tx, daily, counted); err != nil {
		return false, err
	}
	if err := flushAttribution(ctx, tx, taps); err != nil {
		return false, err
	}
	var applied linkDelta
	for id := range counted {
		applied.clicks += perLink[id].clicks
		applied.previews += perLink[id].previews
	}
	if applied.clicks != 0 || applied.previews != 0 {
		if _, err := tx.ExecContext(ctx, flushAddTraffic, applied.clicks, applied.previews, trafficShard(b.ID)); err != nil {
			return false, err
		}
	}
	return true, flushWebhooks(ctx, tx, b, perLink, counted)
}

// flushSurvivors maps each link of the batch that has been merged into
// another since the instance cached it to the link it was merged into
// (one level, as heals record it), so a stale cache cannot split counts.
func flushSurvivors(ctx context.Context, tx *sqlx.Tx, b ClickBatch) (map[int64]int64, error) {
	ids := make([]int64, 0, len(b.Rows)+len(b.Taps))
	for _, r := range b.Rows {
		ids = append(ids, r.LinkID)
	}
	for _, t := range b.Taps {
		ids = append(ids, t.Counted)
	}
	var rows []struct {
		ID       int64 `db:"id"`
		Survivor int64 `db:"survivor"`
	}
	if err := tx.SelectContext(ctx, &rows, flushMergedLinks, pq.Array(ids)); err != nil {
		return nil, err
	}
	m := make(map[int64]int64, len(rows))
	for _, r := range rows {
		m[r.ID] = r.Survivor
	}
	return m, nil
}

// flushLinkCounts adds perLink to link_counters and returns the links that
// exist (the others were deleted since their taps were counted). A link
// that exists without a counters row gets one, so its clicks are not
// taken for a deleted link's.
func flushLinkCounts(ctx context.Context, tx *sqlx.Tx, perLink map[int64]*linkDelta) (map[int64]bool, error) {
	ids := slices.Sorted(maps.Keys(perLink))
	clicks, previews, forwarded := make([]int64, len(ids)), make([]int64, len(ids)), make([]int64, len(ids))
	for i, id := range ids {
		d := perLink[id]
		clicks[i], previews[i], forwarded[i] = d.clicks, d.previews, d.forwarded
	}
	var missing []int64
	if len(ids) > 0 {
		err := tx.SelectContext(ctx, &missing, flushAddLinkCounts, pq.Array(ids), pq.Array(clicks), pq.Array(previews), pq.Array(forwarded))
		if err != nil {
			return nil, err
		}
	}
	counted := make(map[int64]bool, len(ids))
	for _, id := range ids {
		counted[id] = true
	}
	if len(missing) == 0 {
		return counted, nil
	}
	mc, mp, mf := make([]int64, len(missing)), make([]int64, len(missing)), make([]int64, len(missing))
	for i, id := range missing {
		d := perLink[id]
		mc[i], mp[i], mf[i] = d.clicks, d.previews, d.forwarded
		delete(counted, id)
	}
	var added []int64
	err := tx.SelectContext(ctx, &added, flushAddMissingCounters, pq.Array(missing), pq.Array(mc), pq.Array(mp), pq.Array(mf))
	if err != nil {
		return nil, err
	}
	for _, id := range added {
		counted[id] = true
	}
	return counted, nil
}

// flushDaily adds the batch's per-day rows of the links that exist.
func flushDaily(ctx context.Context, tx *sqlx.Tx, daily map[dayKey]*linkDelta, counted map[int64]bool) error {
	var ids []int64
	var days []string
	var clicks, previews []int64
	for k, d := range daily {
		if counted[k.link] {
			ids, days, clicks, previews = append(ids, k.link), append(days, k.day), append(clicks, d.clicks), append(previews, d.previews)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, flushAddDaily, pq.Array(ids), pq.Array(days), pq.Array(clicks), pq.Array(previews))
	return err
}

// sendGain is what one send gained in a flush, as flushAddSendClicks
// returns it.
type sendGain struct {
	ID              string    `db:"id"`
	Variant         string    `db:"variant"`
	TemplateVersion int       `db:"template_version"` // -1: none
	BusinessID      string    `db:"business_id"`
	SentAt          time.Time `db:"sent_at"`
	Before          int64     `db:"before"`
	Clicks          int64     `db:"clicks"`
}

// flushAttribution credits taps to the sends they answer, then the
// rollups of those sends (per variant, then per template version), in lock
// order.
func flushAttribution(ctx context.Context, tx *sqlx.Tx, taps []TapRow) error {
	if len(taps) == 0 {
		return nil
	}
	tapped, counted, at, n := make([]int64, len(taps)), make([]int64, len(taps)), make([]string, len(taps)), make([]int64, len(taps))
	for i, t := range taps {
		tapped[i], counted[i], at[i], n[i] = t.Tapped, t.Counted, t.At.UTC().Format(time.RFC3339Nano), t.Clicks
	}
	var attributed []struct {
		SendID string `db:"send_id"`
		Clicks int64  `db:"clicks"`
	}
	if err := tx.SelectContext(ctx, &attributed, flushAttributeTaps, pq.Array(tapped), pq.Array(counted), pq.Array(at), pq.Array(n)); err != nil || len(attributed) == 0 {
		return err
	}
	sendIDs, sendClicks := make([]string, len(attributed)), make([]int64, len(attributed))
	for i, a := range attributed {
		sendIDs[i], sendClicks[i] = a.SendID, a.Clicks
	}
	var gains []sendGain
	if err := tx.SelectContext(ctx, &gains, flushAddSendClicks, pq.Array(sendIDs), pq.Array(sendClicks)); err != nil || len(gains) == 0 {
		return err
	}

	// Each rollup set in turn, in lock order (rollups.go): the variant's
	// business rows, totals and hours, then the version's; then the gap
	// rollups of the sends tapped for the first time (gaps.go).
	for _, r := range rollups {
		if err := flushRollupClicks(ctx, tx, gains, r); err != nil {
			return err
		}
	}
	var firstTaps []chainSend
	for _, g := range gains {
		if g.Before == 0 && g.Clicks > 0 {
			firstTaps = append(firstTaps, chainSend{ID: g.ID, BusinessID: g.BusinessID, Variant: g.Variant,
				Version: g.TemplateVersion, SentAt: g.SentAt, Tapped: true})
		}
	}
	return keepGaps(ctx, tx, gapChange{firstTaps: firstTaps})
}

// flushWebhooks queues one link.clicked event per counted link for every
// enabled endpoint. It is part of the flush's transaction, so an event
// exists exactly when its counts were committed; a replayed batch adds
// neither. The webhook-id is derived from the batch ID and the link, so
// it is stable by construction.
func flushWebhooks(ctx context.Context, tx *sqlx.Tx, b ClickBatch, perLink map[int64]*linkDelta, counted map[int64]bool) error {
	var ids, clicks, previews []int64
	for _, id := range slices.Sorted(maps.Keys(counted)) {
		d := perLink[id]
		if d.clicks == 0 && d.previews == 0 {
			continue // only forwarded taps: the survivor's event carries them
		}
		ids, clicks, previews = append(ids, id), append(clicks, d.clicks), append(previews, d.previews)
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, flushLinkClickedEvents, b.ID, pq.Array(ids), pq.Array(clicks), pq.Array(previews),
		nullTime(b.From), nullTime(b.To))
	return err
}

// PruneClickFlushes forgets batch IDs recorded before cutoff (a batch is
// retried until it succeeds or is abandoned, so only ancient IDs can go),
// and the listing moves no live cursor can need (see linkCursorStale).
func (s *Store) PruneClickFlushes(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM click_flushes WHERE flushed_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: prune click flushes: %w", classify(err))
	}
	n, _ := res.RowsAffected()
	if _, err := s.db.ExecContext(ctx, pruneLinkCountMoves, strconv.FormatInt(2*cursorMaxAge.Milliseconds(), 10)); err != nil {
		return n, fmt.Errorf("store: prune link count moves: %w", classify(err))
	}
	return n, nil
}
