package db

import (
	"context"
	"fmt"
	"time"
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
func (s *Store) VoidSend(ctx context.Context, id, reason string) (Send, error) {
	by := createdBy(ctx) // the request's actor, as the audit row names it
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Send{}, fmt.Errorf("store: void send: %w", classify(err))
	}
	defer tx.Rollback()
	// Lock order as the click flush's: the send, then the variant's
	// business row, totals and hours, then the version's (rollups.go),
	// then the gaps (gaps.go).
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
	// Each rollup set in turn (rollups.go): the variant's, then the
	// version's, business row, totals, hours.
	for _, r := range rollups {
		if err := voidFromRollup(ctx, tx, send, r); err != nil {
			return Send{}, fmt.Errorf("store: void send %s: %w", id, err)
		}
	}
	// Then the gap rollups (gaps.go): the send leaves its chains.
	if err := keepGaps(ctx, tx, gapChange{removed: &chainSend{ID: send.ID, BusinessID: send.BusinessID,
		Variant: send.Variant, Version: versionKey(send.TemplateVersion), SentAt: send.SentAt,
		Tapped: send.Clicks > 0}}); err != nil {
		return Send{}, fmt.Errorf("store: void send %s: %w", id, err)
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
