package db

import (
	"context"
	"fmt"
	"time"

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
// false, newest send first (ties by business, newest ID first); at most
// limit. A window ending now (until nil or in the future) reads the
// (variant, business) rollup: a business had a send (a tapped send) in it
// exactly when its latest one is at or after since, and its latest send in
// it is its latest; only the listed businesses' sends are then counted. A
// window ending in the past walks its sends of the variant from the newest
// (variantBusinessesInThePast).
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
// ending in the past. It walks the window's sends of the variant from the
// newest, a batch at a time (campaign_sends_sent_at_idx): a business first
// met there is met at its latest send in the window, so businesses come in
// the list's order; each batch's new businesses are then counted over the
// window (their sends and taps). The walk stops once limit businesses that
// tapped are found (they come first), or at the window's start. Only the
// businesses listed are read. (Businesses whose latest sends share a
// microsecond are in the order of those sends' IDs.)
func (s *Store) variantBusinessesInThePast(ctx context.Context, variant string, tappedOnly bool, since *time.Time, until time.Time, limit int) ([]VariantBusiness, error) {
	start := time.Unix(0, 0)
	if since != nil {
		start = *since
	}
	type met struct {
		BusinessID string    `db:"business_id"`
		SentAt     time.Time `db:"sent_at"`
		ID         string    `db:"id"`
	}
	seen := map[string]bool{}
	var tapped, others []VariantBusiness
	// Before (until, the least ID): every send before until.
	cursorAt, cursorID := until, "00000000-0000-0000-0000-000000000000"
	for len(tapped) < limit {
		var batch []met
		if err := s.db.SelectContext(ctx, &batch, variantSendsWalk, variant, start, cursorAt, cursorID,
			variantWalkBatch); err != nil {
			return nil, err
		}
		var fresh []string
		last := map[string]time.Time{}
		for _, m := range batch {
			if !seen[m.BusinessID] {
				seen[m.BusinessID] = true
				fresh, last[m.BusinessID] = append(fresh, m.BusinessID), m.SentAt
			}
		}
		if len(fresh) > 0 {
			var counts []VariantBusiness
			if err := s.db.SelectContext(ctx, &counts, variantWindowCounts, variant, start, until,
				pq.Array(fresh)); err != nil {
				return nil, err
			}
			byID := map[string]VariantBusiness{}
			for _, c := range counts {
				byID[c.BusinessID] = c
			}
			for _, id := range fresh { // in the walk's order
				c := byID[id]
				c.BusinessID, c.LastSentAt = id, last[id]
				if c.Taps > 0 {
					tapped = append(tapped, c)
				} else if !tappedOnly && len(others) < limit {
					others = append(others, c)
				}
			}
		}
		if len(batch) < variantWalkBatch {
			break
		}
		cursorAt, cursorID = batch[len(batch)-1].SentAt, batch[len(batch)-1].ID
	}
	list := append(tapped, others...)
	list = list[:min(len(list), limit)]
	return list, s.nameBusinesses(ctx, list)
}

// variantWalkBatch is how many sends the walk reads a statement (a
// variable only so a test can walk in small steps).
var variantWalkBatch = 2000

// variantSendsWalk is the next batch of the walk: sends of variant $1 in
// [$2, $3) before ($3, $4) in (sent_at, id) order, newest first.
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

// nameBusinesses fills in the listed businesses' names and phones.
func (s *Store) nameBusinesses(ctx context.Context, list []VariantBusiness) error {
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
	if err := s.db.SelectContext(ctx, &named, `SELECT id::text, name, phone FROM businesses WHERE id = ANY($1::uuid[])`,
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
