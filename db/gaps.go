package db

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The gap rollups (migration 00042) let a results window that ends in the
// past count businesses without reading its sends. A business had a send
// of a variant in [since, until) exactly once for the first of them: the
// send whose previous send of the variant to the business (by sent_at,
// then id) came before since, or does not exist. Each send not voided is
// therefore counted by the UTC hour it was sent in and the hour of its
// previous send ("sends"), and each tapped send by the hour of the
// previous tapped send ("tapped", for the businesses that clicked), per
// rollup set: campaign_variant_gaps and campaign_version_gaps.
//
// A send changes the chains of one key only (variant and business; or
// variant, version and business) and only while the key's business row
// of the set is locked: RecordSend, VoidSend and the click flush all lock
// it first. keepGaps then reads the chains of the keys it changed (a new
// statement: it sees every change committed before the lock), rebuilds
// them as they were before the change, and adds the difference of the two
// to the gap rows: one upsert per set, in key order, after every other
// rollup statement of the transaction (lock order: the variant set's
// business rows, totals, hours, the version set's, then the gaps, variant
// set first).

// chainSend is a send as the gap rollups chain it.
type chainSend struct {
	ID         string    `db:"id"`
	BusinessID string    `db:"business_id"`
	Variant    string    `db:"variant"`
	Version    int       `db:"template_version"` // -1: none
	SentAt     time.Time `db:"sent_at"`
	Tapped     bool      `db:"tapped"`
}

// gapChange is what changed in the sends of some keys: a send recorded
// (added) or voided (removed), or sends tapped for the first time.
type gapChange struct {
	added, removed *chainSend
	firstTaps      []chainSend
}

// gapChains reads the sends not voided of the businesses and variants a
// change touched (campaign_sends_business_sent_idx): every key changed is
// among them, and the other keys read are left as they are. Whole chains,
// though a change moves only the changed send's row and its successor's: a
// business gets a handful of sends of a variant, and rebuilding the chain
// keeps one rule (addChains) for the backfill's order and this code's.
const gapChains = `SELECT id::text, business_id::text, variant, COALESCE(template_version, -1) AS template_version,
		sent_at, clicks > 0 AS tapped
	FROM campaign_sends
	WHERE business_id = ANY($1::uuid[]) AND variant = ANY($2::text[]) AND voided_at IS NULL`

// addVariantGaps adds deltas to campaign_variant_gaps, in key order.
const addVariantGaps = `INSERT INTO campaign_variant_gaps AS g (hour, variant, prev_hour, sends, tapped)
	SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[])
	ORDER BY 1, 2, 3
	ON CONFLICT (hour, variant, prev_hour) DO UPDATE
	SET sends = g.sends + EXCLUDED.sends, tapped = g.tapped + EXCLUDED.tapped`

// addVersionGaps adds deltas to campaign_version_gaps, in key order.
const addVersionGaps = `INSERT INTO campaign_version_gaps AS g (hour, variant, template_version, prev_hour, sends, tapped)
	SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::int[], $4::timestamptz[], $5::bigint[], $6::bigint[])
	ORDER BY 1, 2, 3, 4
	ON CONFLICT (hour, variant, template_version, prev_hour) DO UPDATE
	SET sends = g.sends + EXCLUDED.sends, tapped = g.tapped + EXCLUDED.tapped`

// keepGaps applies change to the gap rollups of both sets.
func keepGaps(ctx context.Context, tx *sqlx.Tx, change gapChange) error {
	var businesses, variants []string
	touched := slices.Clone(change.firstTaps)
	for _, c := range []*chainSend{change.added, change.removed} {
		if c != nil {
			touched = append(touched, *c)
		}
	}
	for _, c := range touched {
		businesses, variants = append(businesses, c.BusinessID), append(variants, c.Variant)
	}
	if len(businesses) == 0 {
		return nil
	}
	var after []chainSend
	if err := tx.SelectContext(ctx, &after, gapChains, pq.Array(businesses), pq.Array(variants)); err != nil {
		return fmt.Errorf("gaps: chains: %w", classify(err))
	}
	before := change.before(after)
	for _, r := range rollups {
		deltas := map[gapKey]*gapDelta{}
		addChains(deltas, r.byVersion, before, -1)
		addChains(deltas, r.byVersion, after, +1)
		if err := upsertGaps(ctx, tx, r.byVersion, deltas); err != nil {
			return fmt.Errorf("gaps: %s: %w", r.name, err)
		}
	}
	return nil
}

// before is the sends of after as they were before the change.
func (c gapChange) before(after []chainSend) []chainSend {
	firstTaps := map[string]bool{}
	for _, t := range c.firstTaps {
		firstTaps[t.ID] = true
	}
	out := make([]chainSend, 0, len(after)+1)
	for _, s := range after {
		if c.added != nil && s.ID == c.added.ID {
			continue
		}
		if firstTaps[s.ID] {
			s.Tapped = false
		}
		out = append(out, s)
	}
	if c.removed != nil {
		out = append(out, *c.removed)
	}
	return out
}

// gapKey is a gap row's key: unix seconds of the UTC hours (prev
// math.MinInt64: no previous send); version 0 in the variant set.
type gapKey struct {
	hour    int64
	variant string
	version int
	prev    int64
}

type gapDelta struct{ sends, tapped int64 }

const noPrevHour = math.MinInt64

// addChains adds sign times each send's gap rows: the sends grouped by key
// of the set, in (sent_at, id) order, each counted by its hour and its
// previous send's (tapped: its previous tapped send's).
func addChains(deltas map[gapKey]*gapDelta, byVersion bool, sends []chainSend, sign int64) {
	type chainKey struct {
		variant, business string
		version           int
	}
	chains := map[chainKey][]chainSend{}
	for _, s := range sends {
		k := chainKey{s.Variant, s.BusinessID, 0}
		if byVersion {
			k.version = s.Version
		}
		chains[k] = append(chains[k], s)
	}
	at := func(k gapKey) *gapDelta {
		if deltas[k] == nil {
			deltas[k] = &gapDelta{}
		}
		return deltas[k]
	}
	for k, chain := range chains {
		slices.SortFunc(chain, func(x, y chainSend) int {
			return cmp.Or(x.SentAt.Compare(y.SentAt), cmp.Compare(x.ID, y.ID))
		})
		prevSent, prevTapped := int64(noPrevHour), int64(noPrevHour)
		for _, s := range chain {
			h := s.SentAt.UTC().Truncate(time.Hour).Unix()
			at(gapKey{h, k.variant, k.version, prevSent}).sends += sign
			prevSent = h
			if s.Tapped {
				at(gapKey{h, k.variant, k.version, prevTapped}).tapped += sign
				prevTapped = h
			}
		}
	}
}

// upsertGaps writes the deltas that are not zero, in key order.
func upsertGaps(ctx context.Context, tx *sqlx.Tx, byVersion bool, deltas map[gapKey]*gapDelta) error {
	keys := slices.SortedFunc(maps.Keys(deltas), func(x, y gapKey) int {
		return cmp.Or(cmp.Compare(x.hour, y.hour), cmp.Compare(x.variant, y.variant),
			cmp.Compare(x.version, y.version), cmp.Compare(x.prev, y.prev))
	})
	var hours, variants, prevs []string
	var versions []int64
	var sends, tapped []int64
	hourText := func(h int64) string {
		if h == noPrevHour {
			return "-infinity"
		}
		return time.Unix(h, 0).UTC().Format(time.RFC3339)
	}
	for _, k := range keys {
		d := deltas[k]
		if d.sends == 0 && d.tapped == 0 {
			continue
		}
		hours, variants, prevs = append(hours, hourText(k.hour)), append(variants, k.variant), append(prevs, hourText(k.prev))
		versions, sends, tapped = append(versions, int64(k.version)), append(sends, d.sends), append(tapped, d.tapped)
	}
	if len(hours) == 0 {
		return nil
	}
	var err error
	if byVersion {
		_, err = tx.ExecContext(ctx, addVersionGaps, pq.Array(hours), pq.Array(variants), pq.Array(versions),
			pq.Array(prevs), pq.Array(sends), pq.Array(tapped))
	} else {
		_, err = tx.ExecContext(ctx, addVariantGaps, pq.Array(hours), pq.Array(variants), pq.Array(prevs),
			pq.Array(sends), pq.Array(tapped))
	}
	return classify(err)
}
