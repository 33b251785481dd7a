package db

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// rollup is one set of results rollups kept from the sends: per variant
// (campaign_variant_businesses, _totals, _hours) or per (variant, template
// version) (campaign_version_*, migration 00039, where a send without a
// version is -1). VoidSend (voidFromRollup) and the click flush
// (flushRollupClicks) keep both through this code, the variant set, then
// the version set, each as business rows, then totals, then hours (the lock
// order of FlushClicks; the gap rollups, gaps.go, come after both).
// RecordSend adds a send to them in its own two statements in the same
// order (sends.go: the variant set in the statement that inserts the send,
// then recordSendVersion); the tests hold every rollup to the aggregate
// over the sends, so the two paths cannot drift unnoticed.
//
// A statement's key comes first in its parameters: ($1 variant, $2
// business) or ($1 variant, $2 version, $3 business) for business rows,
// ($1 variant) or ($1 variant, $2 version) for totals and hours; arrays
// in the same order in the flush's statements.
type rollup struct {
	name      string
	byVersion bool
	// VoidSend's statements (rollups_sql.go).
	voidLockBusiness, voidRemaining, voidDeleteBusiness, voidUpdateBusiness, voidTotals, voidHours string
	// The flush's statements (clicks_sql.go).
	flushBusinesses, flushTotals, flushHours string
}

var variantRollup = rollup{
	name:               "variant",
	voidLockBusiness:   voidLockVariantBusiness,
	voidRemaining:      voidVariantRemaining,
	voidDeleteBusiness: voidDeleteVariantBusiness,
	voidUpdateBusiness: voidUpdateVariantBusiness,
	voidTotals:         voidVariantTotals,
	voidHours:          voidVariantHours,
	flushBusinesses:    flushAddVariantBusinessClicks,
	flushTotals:        flushAddVariantClicks,
	flushHours:         flushAddVariantHourClicks,
}

var versionRollup = rollup{
	name:               "version",
	byVersion:          true,
	voidLockBusiness:   voidLockVersionBusiness,
	voidRemaining:      voidVersionRemaining,
	voidDeleteBusiness: voidDeleteVersionBusiness,
	voidUpdateBusiness: voidUpdateVersionBusiness,
	voidTotals:         voidVersionTotals,
	voidHours:          voidVersionHours,
	flushBusinesses:    flushAddVersionBusinessClicks,
	flushTotals:        flushAddVersionClicks,
	flushHours:         flushAddVersionHourClicks,
}

// rollups are the sets every change of the sends keeps, in lock order.
var rollups = []rollup{variantRollup, versionRollup}

// noVersion is the version key of a send recorded before versions were
// kept (template_version NULL).
const noVersion = -1

// versionKey is the version key of a send's template version.
func versionKey(v *int) int {
	if v == nil {
		return noVersion
	}
	return *v
}

// totalsKey is the key of a totals (or hours) row of the set.
func (r rollup) totalsKey(variant string, version int) []any {
	if r.byVersion {
		return []any{variant, version}
	}
	return []any{variant}
}

// businessKey is the key of a business row of the set.
func (r rollup) businessKey(variant string, version int, business string) []any {
	return append(r.totalsKey(variant, version), business)
}

// voidFromRollup takes a voided send (already marked) out of one rollup
// set. The business row is locked before reading what remains, so a send
// recorded meanwhile is either waited for or waits: the row goes when no
// other send of the key remains; otherwise it loses this send's clicks and
// its last-send times are those of the sends that remain (the hour rollup
// moves the business with them).
func voidFromRollup(ctx context.Context, tx *sqlx.Tx, send Send, r rollup) error {
	version := versionKey(send.TemplateVersion)
	bkey, tkey := r.businessKey(send.Variant, version, send.BusinessID), r.totalsKey(send.Variant, version)
	var vb struct {
		Clicks        int64      `db:"clicks"`
		LastSentAt    *time.Time `db:"last_sent_at"`
		LastClickedAt *time.Time `db:"last_clicked_at"`
	}
	if err := tx.GetContext(ctx, &vb, r.voidLockBusiness, bkey...); err != nil {
		return fmt.Errorf("%s business: %w", r.name, classify(err))
	}
	var remain struct {
		N             int64      `db:"n"`
		LastSentAt    *time.Time `db:"last_sent_at"`
		LastClickedAt *time.Time `db:"last_clicked_at"`
	}
	if err := tx.GetContext(ctx, &remain, r.voidRemaining, bkey...); err != nil {
		return fmt.Errorf("%s remaining sends: %w", r.name, classify(err))
	}
	var err error
	clickedNow := false
	if remain.N == 0 {
		_, err = tx.ExecContext(ctx, r.voidDeleteBusiness, bkey...)
		remain.LastSentAt, remain.LastClickedAt = nil, nil
	} else {
		clickedNow = vb.Clicks-send.Clicks > 0
		_, err = tx.ExecContext(ctx, r.voidUpdateBusiness,
			slices.Concat(bkey, []any{send.Clicks, remain.LastSentAt, remain.LastClickedAt})...)
	}
	if err != nil {
		return fmt.Errorf("%s business: %w", r.name, classify(err))
	}
	lostBusiness, lostClicked := 0, 0
	if remain.N == 0 {
		lostBusiness = 1
	}
	if vb.Clicks > 0 && !clickedNow {
		lostClicked = 1
	}
	_, err = tx.ExecContext(ctx, r.voidTotals,
		slices.Concat(tkey, []any{lostBusiness, lostClicked, send.Clicks, send.Segments, send.CostMicros})...)
	if err != nil {
		return fmt.Errorf("%s totals: %w", r.name, classify(err))
	}
	if err := voidFromHours(ctx, tx, r, tkey, send, vb.LastSentAt, remain.LastSentAt, vb.LastClickedAt, remain.LastClickedAt); err != nil {
		return fmt.Errorf("%s hours: %w", r.name, err)
	}
	return nil
}

// voidFromHours takes a voided send out of the set's hour rollup the
// results windows read (see CampaignResults): its send, segments, cost and
// clicks leave the hour it was sent in, and the business moves from the
// hour of its latest send (latest tapped send) before the void to the hour
// of the one after it (none: it leaves). Rows in hour order, after the
// totals row, as RecordSend and the flush lock them.
func voidFromHours(ctx context.Context, tx *sqlx.Tx, r rollup, tkey []any, send Send, sentBefore, sentAfter, clickedBefore, clickedAfter *time.Time) error {
	type delta struct{ sends, segments, cost, clicks, sentLast, clickedLast int64 }
	hours := map[time.Time]*delta{}
	at := func(t time.Time) *delta {
		h := t.UTC().Truncate(time.Hour)
		if hours[h] == nil {
			hours[h] = &delta{}
		}
		return hours[h]
	}
	d := at(send.SentAt)
	d.sends, d.segments, d.cost, d.clicks = -1, -int64(send.Segments), -send.CostMicros, -send.Clicks
	move := func(before, after *time.Time, field func(*delta) *int64) {
		hb, ha := hourOf(before), hourOf(after)
		if hb == ha {
			return
		}
		if before != nil {
			*field(at(*before))--
		}
		if after != nil {
			*field(at(*after))++
		}
	}
	move(sentBefore, sentAfter, func(d *delta) *int64 { return &d.sentLast })
	move(clickedBefore, clickedAfter, func(d *delta) *int64 { return &d.clickedLast })
	keys := slices.SortedFunc(maps.Keys(hours), time.Time.Compare)
	hs := make([]string, len(keys))
	var sends, segments, cost, clicks, sentLast, clickedLast []int64
	for i, h := range keys {
		d := hours[h]
		hs[i] = h.Format(time.RFC3339)
		sends, segments, cost = append(sends, d.sends), append(segments, d.segments), append(cost, d.cost)
		clicks, sentLast, clickedLast = append(clicks, d.clicks), append(sentLast, d.sentLast), append(clickedLast, d.clickedLast)
	}
	_, err := tx.ExecContext(ctx, r.voidHours, slices.Concat(tkey, []any{pq.Array(hs), pq.Array(sends),
		pq.Array(segments), pq.Array(cost), pq.Array(clicks), pq.Array(sentLast), pq.Array(clickedLast)})...)
	return classify(err)
}

func hourOf(t *time.Time) int64 {
	if t == nil {
		return -1
	}
	return t.UTC().Truncate(time.Hour).Unix()
}

// rollupBusiness is the key of a business row of a rollup set (version 0
// in the variant set), rollupHour of an hour row, rollupTotal of a totals
// row.
type (
	rollupBusiness struct {
		variant  string
		version  int
		business string
	}
	rollupHour struct {
		variant string
		version int
		hour    int64 // unix seconds of the UTC hour
	}
	rollupTotal struct {
		variant string
		version int
	}
)

// hourGain is what a flush adds to an hour row.
type hourGain struct{ clicks, clickedLast int64 }

// businessGain is what a flush adds to a business row: clicks, and the
// latest sent_at among the sends tapped.
type businessGain struct {
	clicks  int64
	clicked time.Time
}

// flushRollupClicks adds what the flush's sends gained to one rollup set:
// business rows (first click, latest tapped send), then totals, then hours,
// each statement locking its rows in key order.
func flushRollupClicks(ctx context.Context, tx *sqlx.Tx, gains []sendGain, r rollup) error {
	perB := map[rollupBusiness]*businessGain{}
	perHour := map[rollupHour]*hourGain{}
	hour := func(variant string, version int, t time.Time) *hourGain {
		k := rollupHour{variant, version, t.UTC().Truncate(time.Hour).Unix()}
		if perHour[k] == nil {
			perHour[k] = &hourGain{}
		}
		return perHour[k]
	}
	for _, g := range gains {
		k := rollupBusiness{g.Variant, 0, g.BusinessID}
		if r.byVersion {
			k.version = g.TemplateVersion
		}
		if perB[k] == nil {
			perB[k] = &businessGain{}
		}
		perB[k].clicks += g.Clicks
		if g.SentAt.After(perB[k].clicked) {
			perB[k].clicked = g.SentAt
		}
		hour(k.variant, k.version, g.SentAt).clicks += g.Clicks
	}
	firsts, err := flushRollupBusinesses(ctx, tx, r, perB)
	if err != nil {
		return err
	}
	// Totals gain the clicks and the businesses clicking for the first
	// time; a business whose latest tapped send changed hour moves.
	type totalGain struct{ clicks, firsts int64 }
	perTotal := map[rollupTotal]*totalGain{}
	for _, f := range firsts {
		k := rollupTotal{f.Variant, f.TemplateVersion}
		if perTotal[k] == nil {
			perTotal[k] = &totalGain{}
		}
		perTotal[k].clicks += f.Clicks
		if f.First {
			perTotal[k].firsts++
		}
		if f.PrevHour == nil || !f.PrevHour.Equal(f.LastHour) {
			hour(k.variant, k.version, f.LastHour).clickedLast++
			if f.PrevHour != nil {
				hour(k.variant, k.version, *f.PrevHour).clickedLast--
			}
		}
	}
	tKeys := slices.Collect(maps.Keys(perTotal))
	tVariants, tVersions := make([]string, len(tKeys)), make([]int64, len(tKeys))
	tClicks, tFirsts := make([]int64, len(tKeys)), make([]int64, len(tKeys))
	for i, k := range tKeys {
		tVariants[i], tVersions[i], tClicks[i], tFirsts[i] = k.variant, int64(k.version), perTotal[k].clicks, perTotal[k].firsts
	}
	if _, err := tx.ExecContext(ctx, r.flushTotals, r.keyArrays(tVariants, tVersions, pq.Array(tClicks), pq.Array(tFirsts))...); err != nil {
		return err
	}
	hKeys := slices.Collect(maps.Keys(perHour))
	hVariants, hVersions, hHours := make([]string, len(hKeys)), make([]int64, len(hKeys)), make([]string, len(hKeys))
	hClicks, hLast := make([]int64, len(hKeys)), make([]int64, len(hKeys))
	for i, k := range hKeys {
		hVariants[i], hVersions[i], hHours[i] = k.variant, int64(k.version), time.Unix(k.hour, 0).UTC().Format(time.RFC3339)
		hClicks[i], hLast[i] = perHour[k].clicks, perHour[k].clickedLast
	}
	_, err = tx.ExecContext(ctx, r.flushHours, r.keyArrays(hVariants, hVersions, pq.Array(hHours), pq.Array(hClicks), pq.Array(hLast))...)
	return err
}

// businessClicked is what the business statement returns per row: whether
// it is the business's first click on the key, and the hour of its latest
// tapped send before and after.
type businessClicked struct {
	Variant         string     `db:"variant"`
	TemplateVersion int        `db:"template_version"` // the version set only
	Clicks          int64      `db:"clicks"`
	First           bool       `db:"first"`
	PrevHour        *time.Time `db:"prev_hour"`
	LastHour        time.Time  `db:"last_hour"`
}

// flushRollupBusinesses adds clicks to the set's business rows.
func flushRollupBusinesses(ctx context.Context, tx *sqlx.Tx, r rollup, perB map[rollupBusiness]*businessGain) ([]businessClicked, error) {
	keys := slices.SortedFunc(maps.Keys(perB), func(x, y rollupBusiness) int {
		return cmp.Or(cmp.Compare(x.variant, y.variant), cmp.Compare(x.version, y.version), cmp.Compare(x.business, y.business))
	})
	variants, versions := make([]string, len(keys)), make([]int64, len(keys))
	businesses, clicks, clickedAt := make([]string, len(keys)), make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		variants[i], versions[i], businesses[i], clicks[i] = k.variant, int64(k.version), k.business, perB[k].clicks
		clickedAt[i] = perB[k].clicked.UTC().Format(time.RFC3339Nano)
	}
	var out []businessClicked
	err := tx.SelectContext(ctx, &out, r.flushBusinesses,
		r.keyArrays(variants, versions, pq.Array(businesses), pq.Array(clicks), pq.Array(clickedAt))...)
	return out, err
}

// keyArrays is a flush statement's parameters: the key arrays (versions
// only in the version set) followed by rest.
func (r rollup) keyArrays(variants []string, versions []int64, rest ...any) []any {
	args := []any{pq.Array(variants)}
	if r.byVersion {
		args = append(args, pq.Array(versions))
	}
	return append(args, rest...)
}
