package db

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Outreach statuses of a business, as the API spells them.
const (
	OutreachNotSent  = "not_sent"
	OutreachSent     = "sent"
	OutreachTapped   = "tapped"
	OutreachOptedOut = "opted_out"
)

// OutreachStatuses lists every outreach status, in the order of a day's
// work.
var OutreachStatuses = []string{OutreachNotSent, OutreachSent, OutreachTapped, OutreachOptedOut}

// ErrOptedOut means the business opted out: no send is recorded for it.
// It is an ErrConflict (the request is fine, the business's state refuses it).
var ErrOptedOut = fmt.Errorf("business opted out: %w", ErrConflict)

// outreachColumns and outreachJoin derive a business's outreach from its
// opt-out and its sends that are not voided: the latest send (one backward
// step of campaign_sends_business_sent_idx) and the taps of all of them.
// Opted out wins; then tapped (any tap), sent (any send), not sent.
const outreachColumns = `CASE WHEN b.opted_out_at IS NOT NULL THEN 'opted_out'
		WHEN tp.taps > 0 THEN 'tapped' WHEN ls.id IS NOT NULL THEN 'sent' ELSE 'not_sent' END AS outreach_status,
	ls.id::text AS last_send_id, ls.variant AS last_variant, ls.sent_at AS last_sent_at, ls.sent_by AS last_sent_by,
	tp.first_tap_at, tp.taps`

const outreachJoin = `LEFT JOIN LATERAL (SELECT c.id, c.variant, c.sent_at, c.sent_by FROM campaign_sends c
	                   WHERE c.business_id = b.id AND c.voided_at IS NULL
	                   ORDER BY c.sent_at DESC, c.id DESC LIMIT 1) ls ON true
	LEFT JOIN LATERAL (SELECT MIN(c.first_clicked_at) AS first_tap_at, COALESCE(SUM(c.clicks), 0)::bigint AS taps
	                   FROM campaign_sends c WHERE c.business_id = b.id AND c.voided_at IS NULL) tp ON true`

// outreachWhere is the condition on businesses b that selects one outreach
// status, the same rule as outreachColumns written as (anti-)joins so a
// filtered listing never computes the status of rows it skips.
var outreachWhere = map[string]string{
	OutreachOptedOut: `b.opted_out_at IS NOT NULL`,
	OutreachTapped: `b.opted_out_at IS NULL AND EXISTS (SELECT 1 FROM campaign_sends c
		WHERE c.business_id = b.id AND c.voided_at IS NULL AND c.clicks > 0)`,
	OutreachSent: `b.opted_out_at IS NULL AND EXISTS (SELECT 1 FROM campaign_sends c
		WHERE c.business_id = b.id AND c.voided_at IS NULL)
		AND NOT EXISTS (SELECT 1 FROM campaign_sends c WHERE c.business_id = b.id AND c.voided_at IS NULL AND c.clicks > 0)`,
	OutreachNotSent: `b.opted_out_at IS NULL AND NOT EXISTS (SELECT 1 FROM campaign_sends c
		WHERE c.business_id = b.id AND c.voided_at IS NULL)`,
}

// KnownOutreachStatus reports whether s is one of OutreachStatuses.
func KnownOutreachStatus(s string) bool {
	_, ok := outreachWhere[s]
	return ok
}

// SetOptedOut records that the business opted out (optedOut) or opted back
// in. Opting out twice keeps the first time. ErrNotFound when no business
// has id.
func (s *Store) SetOptedOut(ctx context.Context, id string, optedOut bool) (Business, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Business{}, fmt.Errorf("store: opt-out: %w", classify(err))
	}
	defer tx.Rollback()
	// The row lock is what a concurrent RecordSend waits on (it reads the
	// opt-out FOR SHARE), so a send is either before the opt-out or
	// refused. It is taken first, on its own, so that clock_timestamp()
	// below is read after every send it waited for: opted_out_at is a
	// true cut, no send of the business is later.
	if _, err = tx.ExecContext(ctx, `SELECT 1 FROM businesses WHERE id = $1 FOR NO KEY UPDATE`, id); err != nil {
		return Business{}, fmt.Errorf("store: opt-out %s: %w", id, classify(err))
	}
	res, err := tx.ExecContext(ctx, `UPDATE businesses
		SET opted_out_at = CASE WHEN $2 THEN COALESCE(opted_out_at, clock_timestamp()) END
		WHERE id = $1`, id, optedOut)
	if err != nil {
		return Business{}, fmt.Errorf("store: opt-out %s: %w", id, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Business{}, fmt.Errorf("store: opt-out %s: %w", id, ErrNotFound)
	}
	var b Business
	if err = tx.GetContext(ctx, &b, `SELECT `+businessColumns+` `+businessFrom+` WHERE b.id = $1`, id); err != nil {
		return Business{}, fmt.Errorf("store: read business: %w", classify(err))
	}
	action := AuditBusinessOptedIn
	if optedOut {
		action = AuditBusinessOptedOut
	}
	if err = s.audit(ctx, tx, action, "business", id, nil, map[string]any{"opted_out_at": b.OptedOutAt}); err != nil {
		return Business{}, err
	}
	if err = tx.Commit(); err != nil {
		return Business{}, fmt.Errorf("store: opt-out: %w", classify(err))
	}
	return b, nil
}

// VoidSend marks a send as recorded by mistake: it stays in the history,
// but no longer counts for the business's status, the results, or later
// taps (the click flush attributes them to the sends that are not voided).
// The running totals lose what the send had added, in the transaction that
// voids it. Voiding a voided send changes nothing and returns it.
func (s *Store) VoidSend(ctx context.Context, id, reason, by string) (Send, error) {
	if by == "" {
		by = createdBy(ctx) // the request's actor, as the audit row names it
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Send{}, fmt.Errorf("store: void send: %w", classify(err))
	}
	defer tx.Rollback()
	// Lock order as the click flush's: the send, then its (variant,
	// business) row, then the variant's totals.
	var send Send
	err = tx.GetContext(ctx, &send, `SELECT `+sendColumns+` FROM campaign_sends WHERE id = $1 FOR NO KEY UPDATE`, id)
	if err != nil {
		return Send{}, fmt.Errorf("store: void send %s: %w", id, classify(err))
	}
	if send.VoidedAt != nil {
		return send, tx.Commit()
	}
	err = tx.GetContext(ctx, &send, `UPDATE campaign_sends
		SET voided_at = clock_timestamp(), void_reason = $2, voided_by = NULLIF($3, '')
		WHERE id = $1 RETURNING `+sendColumns, id, reason, by)
	if err != nil {
		return Send{}, fmt.Errorf("store: void send %s: %w", id, classify(err))
	}
	// The (variant, business) row, locked before reading what remains so
	// a send recorded meanwhile is either waited for or waits: it goes
	// when no other send of the variant to the business remains; otherwise
	// it loses this send's clicks and its last-send times are those of the
	// sends that remain (the hour rollup moves the business with them).
	var vb struct {
		Clicks        int64      `db:"clicks"`
		LastSentAt    *time.Time `db:"last_sent_at"`
		LastClickedAt *time.Time `db:"last_clicked_at"`
	}
	err = tx.GetContext(ctx, &vb, `SELECT clicks, last_sent_at, last_clicked_at FROM campaign_variant_businesses
		WHERE variant = $1 AND business_id = $2 FOR NO KEY UPDATE`, send.Variant, send.BusinessID)
	if err != nil {
		return Send{}, fmt.Errorf("store: void send %s: variant business: %w", id, classify(err))
	}
	var remain struct {
		N             int64      `db:"n"`
		LastSentAt    *time.Time `db:"last_sent_at"`
		LastClickedAt *time.Time `db:"last_clicked_at"`
	}
	err = tx.GetContext(ctx, &remain, `SELECT COUNT(*) AS n, MAX(sent_at) AS last_sent_at,
			MAX(sent_at) FILTER (WHERE clicks > 0) AS last_clicked_at
		FROM campaign_sends WHERE business_id = $1 AND variant = $2 AND voided_at IS NULL`, send.BusinessID, send.Variant)
	if err != nil {
		return Send{}, fmt.Errorf("store: void send %s: remaining sends: %w", id, classify(err))
	}
	clickedNow := false
	if remain.N == 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM campaign_variant_businesses WHERE variant = $1 AND business_id = $2`,
			send.Variant, send.BusinessID)
		remain.LastSentAt, remain.LastClickedAt = nil, nil
	} else {
		clickedNow = vb.Clicks-send.Clicks > 0
		_, err = tx.ExecContext(ctx, `UPDATE campaign_variant_businesses
			SET clicks = GREATEST(clicks - $3, 0), prev_sent_at = last_sent_at, prev_clicked_at = last_clicked_at,
			    last_sent_at = $4, last_clicked_at = $5
			WHERE variant = $1 AND business_id = $2`,
			send.Variant, send.BusinessID, send.Clicks, remain.LastSentAt, remain.LastClickedAt)
	}
	if err != nil {
		return Send{}, fmt.Errorf("store: void send %s: variant business: %w", id, classify(err))
	}
	lostBusiness, lostClicked := 0, 0
	if remain.N == 0 {
		lostBusiness = 1
	}
	if vb.Clicks > 0 && !clickedNow {
		lostClicked = 1
	}
	_, err = tx.ExecContext(ctx, `UPDATE campaign_variant_totals
		SET sends = sends - 1, businesses_sent = businesses_sent - $2, businesses_clicked = businesses_clicked - $3,
		    clicks = clicks - $4, segments = segments - $5, cost_micros = cost_micros - $6
		WHERE variant = $1`,
		send.Variant, lostBusiness, lostClicked, send.Clicks, send.Segments, send.CostMicros)
	if err != nil {
		return Send{}, fmt.Errorf("store: void send %s: totals: %w", id, classify(err))
	}
	if err = voidFromHours(ctx, tx, send, vb.LastSentAt, remain.LastSentAt, vb.LastClickedAt, remain.LastClickedAt); err != nil {
		return Send{}, fmt.Errorf("store: void send %s: hours: %w", id, err)
	}
	err = s.audit(ctx, tx, AuditSendVoided, "send", send.ID, map[string]any{"voided_at": nil},
		map[string]any{"voided_at": send.VoidedAt, "void_reason": reason, "business_id": send.BusinessID, "variant": send.Variant})
	if err != nil {
		return Send{}, err
	}
	if err = tx.Commit(); err != nil {
		return Send{}, fmt.Errorf("store: void send: %w", classify(err))
	}
	return send, nil
}

// voidFromHours takes a voided send out of the hour rollup the results
// windows read (campaign_variant_hours, see CampaignResults): its send,
// segments, cost and clicks leave the hour it was sent in, and the business
// moves from the hour of its latest send (latest tapped send) before the
// void to the hour of the one after it (none: it leaves). Rows in (variant,
// hour) order, after the totals row, as RecordSend and the flush lock them.
func voidFromHours(ctx context.Context, tx *sqlx.Tx, send Send, sentBefore, sentAfter, clickedBefore, clickedAfter *time.Time) error {
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
	_, err := tx.ExecContext(ctx, `INSERT INTO campaign_variant_hours AS v
			(variant, hour, sends, segments, cost_micros, clicks, businesses_sent_last, businesses_clicked_last)
		SELECT $1, h.* FROM unnest($2::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
		                           $7::bigint[], $8::bigint[]) AS h
		ORDER BY 2
		ON CONFLICT (variant, hour) DO UPDATE
		SET sends = v.sends + EXCLUDED.sends, segments = v.segments + EXCLUDED.segments,
		    cost_micros = v.cost_micros + EXCLUDED.cost_micros, clicks = v.clicks + EXCLUDED.clicks,
		    businesses_sent_last = v.businesses_sent_last + EXCLUDED.businesses_sent_last,
		    businesses_clicked_last = v.businesses_clicked_last + EXCLUDED.businesses_clicked_last`,
		send.Variant, pq.Array(hs), pq.Array(sends), pq.Array(segments), pq.Array(cost), pq.Array(clicks),
		pq.Array(sentLast), pq.Array(clickedLast))
	return classify(err)
}

// hourOf is t's UTC hour in unix seconds, -1 for none.
func hourOf(t *time.Time) int64 {
	if t == nil {
		return -1
	}
	return t.UTC().Truncate(time.Hour).Unix()
}

// FollowUp is a send that was tapped: who, when it was sent and first
// tapped, and how many taps it has.
type FollowUp struct {
	SendID       string    `db:"send_id"`
	BusinessID   string    `db:"business_id"`
	BusinessName string    `db:"business_name"`
	Phone        string    `db:"phone"`
	OptedOut     bool      `db:"opted_out"`
	Variant      string    `db:"variant"`
	SentAt       time.Time `db:"sent_at"`
	FirstTapAt   time.Time `db:"first_clicked_at"`
	Taps         int64     `db:"clicks"`
}

// TimeToTap is how long after the send the first tap came.
func (f FollowUp) TimeToTap() time.Duration { return f.FirstTapAt.Sub(f.SentAt) }

// FollowUps returns the tapped sends that are not voided, newest first tap
// first: a walk of campaign_sends_first_clicked_idx, at most limit rows.
func (s *Store) FollowUps(ctx context.Context, limit int) ([]FollowUp, error) {
	out := []FollowUp{}
	err := s.db.SelectContext(ctx, &out, `SELECT c.id::text AS send_id, c.business_id::text, b.name AS business_name,
			b.phone, b.opted_out_at IS NOT NULL AS opted_out, c.variant, c.sent_at, c.first_clicked_at, c.clicks
		FROM campaign_sends c JOIN businesses b ON b.id = c.business_id
		WHERE c.first_clicked_at IS NOT NULL AND c.voided_at IS NULL
		ORDER BY c.first_clicked_at DESC, c.id DESC
		LIMIT $1`, clamp(limit, 1, 500, 100))
	if err != nil {
		return nil, fmt.Errorf("store: follow-ups: %w", classify(err))
	}
	return out, nil
}

// GetSend returns one send, voided or not.
func (s *Store) GetSend(ctx context.Context, id string) (Send, error) {
	var send Send
	err := s.db.GetContext(ctx, &send, `SELECT `+sendColumns+` FROM campaign_sends WHERE id = $1`, id)
	if err != nil {
		return Send{}, fmt.Errorf("store: get send %s: %w", id, classify(err))
	}
	return send, nil
}

// optedOut reads, in tx, whether the business opted out, FOR SHARE: an
// opt-out committing meanwhile waits for tx, and tx waits for one in
// progress. A business that does not exist is not opted out (the insert
// that follows reports it).
func optedOut(ctx context.Context, tx queryer, businessID string) (bool, error) {
	var rows []bool
	err := tx.SelectContext(ctx, &rows, `SELECT opted_out_at IS NOT NULL FROM businesses WHERE id = $1::uuid FOR SHARE`, businessID)
	if err != nil {
		return false, fmt.Errorf("store: read opt-out: %w", classify(err))
	}
	return len(rows) == 1 && rows[0], nil
}

// SentLink is the link embedded in a business's latest send that is not
// voided, and whether it still answers.
type SentLink struct {
	SendID     string    `db:"send_id"`
	SentAt     time.Time `db:"sent_at"`
	Link       Link      `db:"link"`
	Superseded bool      `db:"superseded"`
}

// Deactivated reports whether recipients of the send see the expired page:
// the link is inactive and forwards nowhere.
func (l SentLink) Deactivated() bool { return !l.Link.IsActive && !l.Superseded }

// LatestSentLink returns the link of the business's latest send that is
// not voided; ErrNotFound when it has none.
func (s *Store) LatestSentLink(ctx context.Context, businessID string) (SentLink, error) {
	var row struct {
		SendID     string    `db:"send_id"`
		SentAt     time.Time `db:"sent_at"`
		Superseded bool      `db:"superseded"`
		Link
	}
	err := s.db.GetContext(ctx, &row, `SELECT c.id::text AS send_id, c.sent_at, l.superseded_by IS NOT NULL AS superseded,
			l.id, l.slug, l.destination_url, l.link_type, l.business_id::text, l.site_id::text,
			l.is_active, l.click_count, l.preview_count, l.created_at, l.updated_at
		FROM campaign_sends c JOIN short_links l ON l.id = c.link_id
		WHERE c.business_id = $1 AND c.voided_at IS NULL
		ORDER BY c.sent_at DESC, c.id DESC
		LIMIT 1`, businessID)
	if err != nil {
		return SentLink{}, fmt.Errorf("store: latest sent link of %s: %w", businessID, classify(err))
	}
	return SentLink{SendID: row.SendID, SentAt: row.SentAt, Link: row.Link, Superseded: row.Superseded}, nil
}

// NextInQueue returns the id of the first business of the outreach queue
// (ready for outreach, not sent, not opted out; by name, id) after the
// given one ("" for the start), or ErrNotFound at the end.
func (s *Store) NextInQueue(ctx context.Context, afterName, afterID string) (string, error) {
	var id string
	err := s.db.GetContext(ctx, &id, `SELECT b.id::text FROM businesses b
		WHERE b.status = $1 AND (b.name, b.id) > ($2, $3::uuid) AND `+outreachWhere[OutreachNotSent]+`
		ORDER BY b.name, b.id LIMIT 1`, StatusReadyForOutreach, afterName, orZeroUUID(afterID))
	if err != nil {
		return "", fmt.Errorf("store: next in queue: %w", classify(err))
	}
	return id, nil
}

// PrevInQueue returns the id of the business before the given one among
// those ready for outreach and not opted out (sent or not: going back is
// how a send just marked is checked or voided), or ErrNotFound.
func (s *Store) PrevInQueue(ctx context.Context, beforeName, beforeID string) (string, error) {
	var id string
	err := s.db.GetContext(ctx, &id, `SELECT b.id::text FROM businesses b
		WHERE b.status = $1 AND (b.name, b.id) < ($2, $3::uuid) AND b.opted_out_at IS NULL
		ORDER BY b.name DESC, b.id DESC LIMIT 1`, StatusReadyForOutreach, beforeName, orZeroUUID(beforeID))
	if err != nil {
		return "", fmt.Errorf("store: previous in queue: %w", classify(err))
	}
	return id, nil
}

// CountQueue counts the businesses left in the outreach queue, exactly up
// to exactCountLimit and estimated past it.
func (s *Store) CountQueue(ctx context.Context) (Count, error) {
	return s.boundedCount(ctx, `SELECT 1 FROM businesses b WHERE b.status = $1 AND `+outreachWhere[OutreachNotSent],
		[]any{StatusReadyForOutreach})
}

func orZeroUUID(id string) string {
	if id == "" {
		return "00000000-0000-0000-0000-000000000000"
	}
	return id
}
