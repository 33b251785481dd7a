package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

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
// false, newest send first (businesses whose latest sends share a
// microsecond by business, newest ID first, except in a window ending in
// the past read by its walk: by the ID of those sends); at most limit.
//
// A window ending now (until nil or in the future) reads the (variant,
// business) rollup: a business had a send (a tapped send) in it exactly
// when its latest one is at or after since, and its latest send in it is
// its latest; only the listed businesses' sends are then counted. A window
// ending in the past is read by variantBusinessesInThePast.
func (s *Store) VariantBusinesses(ctx context.Context, variant string, tappedOnly bool, since, until *time.Time, limit int) ([]VariantBusiness, error) {
	out := []VariantBusiness{}
	limit = clamp(limit, 1, 500, 200)
	var err error
	if until == nil || until.After(time.Now()) {
		err = s.db.SelectContext(ctx, &out, variantBusinessesFromRollup, variant, since, tappedOnly, limit)
	} else {
		out, err = s.variantBusinessesInThePast(ctx, variant, tappedOnly, since, *until, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("store: businesses of variant %q: %w", variant, classify(err))
	}
	return out, nil
}

// variantBusinessesFromRollup is VariantBusinesses from $2 (NULL: all
// time) to now: the businesses that tapped, then ($3 false) the others,
// each a walk of campaign_variant_businesses_sent_idx from the newest,
// cut to the page ($4); then the page's sends of the variant since $2
// (campaign_sends_business_sent_idx) and their businesses.
const variantBusinessesFromRollup = `WITH listed AS (
		(SELECT vb.business_id, vb.last_sent_at, true AS tapped
		 FROM campaign_variant_businesses vb
		 WHERE vb.variant = $1 AND vb.last_clicked_at >= COALESCE($2::timestamptz, '-infinity')
		 ORDER BY vb.last_sent_at DESC, vb.business_id DESC
		 LIMIT $4)
		UNION ALL
		(SELECT vb.business_id, vb.last_sent_at, false
		 FROM campaign_variant_businesses vb
		 WHERE NOT $3 AND vb.variant = $1 AND vb.last_sent_at >= COALESCE($2::timestamptz, '-infinity')
		   AND (vb.last_clicked_at IS NULL OR vb.last_clicked_at < COALESCE($2::timestamptz, '-infinity'))
		 ORDER BY vb.last_sent_at DESC, vb.business_id DESC
		 LIMIT $4)
	), page AS (
		SELECT * FROM listed ORDER BY tapped DESC, last_sent_at DESC, business_id DESC LIMIT $4
	)
	SELECT p.business_id::text, b.name, b.phone, w.sends, p.last_sent_at, w.taps
	FROM page p
	JOIN businesses b ON b.id = p.business_id
	CROSS JOIN LATERAL (
		SELECT COUNT(*) AS sends, COALESCE(SUM(c.clicks), 0)::bigint AS taps
		FROM campaign_sends c
		WHERE c.business_id = p.business_id AND c.variant = $1 AND c.voided_at IS NULL
		  AND c.sent_at >= COALESCE($2::timestamptz, '-infinity')) w
	ORDER BY p.tapped DESC, p.last_sent_at DESC, p.business_id DESC`

// variantBusinessesInThePast is VariantBusinesses for [since, until)
// ending in the past, read in one snapshot (REPEATABLE READ, read only).
// It first walks the window's sends of the variant from the newest
// (campaign_sends_variant_sent_idx, 00043, without the table), Options.
// VariantWalk a statement: a business first met there is met at its
// latest send in the window, so businesses come in the list's order, and
// each statement's are then counted over the window (their sends and
// taps). When limit of them tapped, or the walk reached the window's
// start, that is the page. When variantWalkBatches statements have not
// found it (few taps in a long window), the window's sends of the variant
// are grouped by business instead, the page cut, and only then joined to
// the businesses (variantBusinessesGrouped: its cost grows with the
// window: 160 ms for 23 days of one variant at 10M, 1 s for 94).
func (s *Store) variantBusinessesInThePast(ctx context.Context, variant string, tappedOnly bool, since *time.Time, until time.Time, limit int) ([]VariantBusiness, error) {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	start := time.Unix(0, 0)
	if since != nil {
		start = *since
	}
	// Before (until, the least ID): every send before until.
	cursorAt, cursorID := until, "00000000-0000-0000-0000-000000000000"
	last := map[string]time.Time{}
	var tapped, others []VariantBusiness
	done := false
	for range variantWalkBatches {
		var walked []struct {
			BusinessID string    `db:"business_id"`
			SentAt     time.Time `db:"sent_at"`
			ID         string    `db:"id"`
		}
		if err := tx.SelectContext(ctx, &walked, variantSendsWalk, variant, start, cursorAt, cursorID, s.variantWalk); err != nil {
			return nil, err
		}
		var met []string
		for _, w := range walked {
			if _, seen := last[w.BusinessID]; !seen {
				met, last[w.BusinessID] = append(met, w.BusinessID), w.SentAt
			}
		}
		var counts []VariantBusiness
		if len(met) > 0 {
			if err := tx.SelectContext(ctx, &counts, variantWindowCounts, variant, start, until, pq.Array(met)); err != nil {
				return nil, err
			}
		}
		byID := map[string]VariantBusiness{}
		for _, c := range counts {
			byID[c.BusinessID] = c
		}
		for _, id := range met { // in the walk's order
			c := byID[id]
			c.BusinessID, c.LastSentAt = id, last[id]
			if c.Taps > 0 {
				tapped = append(tapped, c)
			} else if !tappedOnly && len(others) < limit {
				others = append(others, c)
			}
		}
		if done = len(tapped) >= limit || len(walked) < s.variantWalk; done {
			break
		}
		cursorAt, cursorID = walked[len(walked)-1].SentAt, walked[len(walked)-1].ID
	}
	list := []VariantBusiness{}
	if !done {
		// The window goes on past the walk, and may hold more businesses
		// that tapped.
		err = tx.SelectContext(ctx, &list, variantBusinessesGrouped, variant, start, until, tappedOnly, limit)
		return list, err
	}
	list = append(append(list, tapped...), others...)
	list = list[:min(len(list), limit)]
	return list, nameBusinesses(ctx, tx, list)
}

// variantWalkBatches is how many statements the walk of a window ending
// in the past reads before it groups the window instead: at 10M links a
// batch of 2,000 sends and its businesses' counts take about 30 ms, and
// grouping 64,000 sends (23 days of one variant) 160 ms.
const variantWalkBatches = 4

// variantSendsWalk is the next $5 sends of variant $1 in [$2, $3) before
// ($3, $4), newest first in (sent_at, id) order.
const variantSendsWalk = `SELECT business_id::text, sent_at, id::text
	FROM campaign_sends
	WHERE variant = $1 AND voided_at IS NULL AND sent_at >= $2 AND sent_at <= $3 AND (sent_at, id) < ($3, $4::uuid)
	ORDER BY sent_at DESC, id DESC
	LIMIT $5`

// variantWindowCounts counts the sends of variant $1 in [$2, $3) of the
// businesses $4, and their taps (campaign_sends_business_sent_idx).
const variantWindowCounts = `SELECT business_id::text, COUNT(*) AS sends, SUM(clicks)::bigint AS taps
	FROM campaign_sends
	WHERE business_id = ANY($4::uuid[]) AND variant = $1 AND voided_at IS NULL AND sent_at >= $2 AND sent_at < $3
	GROUP BY business_id`

// variantBusinessesGrouped is VariantBusinesses for [$2, $3): the window's
// sends of variant $1 grouped by business, cut to the page ($5; $4 tapped
// only), and only then joined to their businesses.
const variantBusinessesGrouped = `WITH page AS (
		SELECT c.business_id, COUNT(*) AS sends, MAX(c.sent_at) AS last_sent_at, SUM(c.clicks)::bigint AS taps
		FROM campaign_sends c
		WHERE c.variant = $1 AND c.voided_at IS NULL AND c.sent_at >= $2 AND c.sent_at < $3
		GROUP BY c.business_id
		HAVING NOT $4 OR SUM(c.clicks) > 0
		ORDER BY SUM(c.clicks) > 0 DESC, MAX(c.sent_at) DESC, c.business_id DESC
		LIMIT $5
	)
	SELECT p.business_id::text, b.name, b.phone, p.sends, p.last_sent_at, p.taps
	FROM page p
	JOIN businesses b ON b.id = p.business_id
	ORDER BY p.taps > 0 DESC, p.last_sent_at DESC, p.business_id DESC`

// nameBusinesses fills in the listed businesses' names and phones.
func nameBusinesses(ctx context.Context, q sqlx.QueryerContext, list []VariantBusiness) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]string, len(list))
	for i, b := range list {
		ids[i] = b.BusinessID
	}
	var named []struct {
		ID    string `db:"id"`
		Name  string `db:"name"`
		Phone string `db:"phone"`
	}
	if err := sqlx.SelectContext(ctx, q, &named, `SELECT id::text, name, phone FROM businesses WHERE id = ANY($1::uuid[])`,
		pq.Array(ids)); err != nil {
		return err
	}
	byID := map[string]int{}
	for i, n := range named {
		byID[n.ID] = i
	}
	for i := range list {
		if j, ok := byID[list[i].BusinessID]; ok {
			list[i].Name, list[i].Phone = named[j].Name, named[j].Phone
		}
	}
	return nil
}
