package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Send is a campaign SMS recorded as sent to a business: the message as
// the preview showed it, and the clicks attributed to it so far.
type Send struct {
	ID         string    `db:"id"`
	BusinessID string    `db:"business_id"`
	Variant    string    `db:"variant"`
	Message    string    `db:"message"`
	LinkID     int64     `db:"link_id"`
	Slug       string    `db:"slug"`
	ShortURL   string    `db:"short_url"`
	Encoding   string    `db:"encoding"`
	Segments   int       `db:"segments"`
	CostMicros int64     `db:"cost_micros"`
	Currency   string    `db:"currency"`
	SentAt     time.Time `db:"sent_at"`
	Clicks     int64     `db:"clicks"`
	// TemplateVersion is the version of the variant's template the message
	// was rendered from (0: the configured default; nil: recorded before
	// versions were kept). SentBy is who recorded it (nil: unknown).
	TemplateVersion *int       `db:"template_version"`
	SentBy          *string    `db:"sent_by"`
	FirstClickedAt  *time.Time `db:"first_clicked_at"`
	VoidedAt        *time.Time `db:"voided_at"`
	VoidReason      *string    `db:"void_reason"`
	VoidedBy        *string    `db:"voided_by"`
}

// NewSend is what RecordSend stores; every field comes from the preview.
type NewSend struct {
	BusinessID string
	Variant    string
	Message    string
	LinkID     int64
	Slug       string
	ShortURL   string
	Encoding   string
	Segments   int
	CostMicros int64
	Currency   string
	// TemplateVersion is MessageTemplateVersion's answer for the variant
	// when the message was rendered. Who sent it is the context's actor.
	TemplateVersion int
}

const sendColumns = `id::text, business_id::text, variant, message, link_id, slug, short_url,
	encoding, segments, cost_micros, currency, sent_at, clicks,
	template_version, sent_by, first_clicked_at, voided_at, void_reason, voided_by`

// FindSendByKey returns the send an earlier request created with idem's
// key (ErrNotFound when the key is unused, ErrIdempotencyMismatch when it
// came with another request). It is the one-round-trip path of a repeated
// request; the record itself never depends on it (see RecordSend).
func (s *Store) FindSendByKey(ctx context.Context, idem Idempotency) (Send, error) {
	var send Send
	// No column of idempotency_keys shares a name with campaign_sends'.
	err := s.db.GetContext(ctx, &send, `SELECT `+sendColumns+`
		FROM idempotency_keys k JOIN campaign_sends c ON c.id = k.resource_id::uuid
		WHERE k.key = $1 AND k.resource = $2 AND k.request_hash = $3`, idem.Key, ResourceSend, idem.RequestHash)
	if errors.Is(err, sql.ErrNoRows) {
		// Unused, or used for another request: tell which.
		if _, err := s.replayedKey(ctx, idem, ResourceSend); err != nil {
			return Send{}, err
		}
	}
	if err != nil {
		return Send{}, fmt.Errorf("store: find send by key: %w", classify(err))
	}
	return send, nil
}

// RecordSend stores a send under idem's key, once: this is the single place
// a send is inserted. created is false when the key had already recorded
// one (that send is returned). The key claim, the send, the per-variant
// rollups and its send.recorded webhooks are one statement, the
// per-version rollups (recordSendVersion) the next, the gap rollups
// (keepGaps) last, in one transaction, so they commit together or not at
// all. A business that opted out gets no send:
// ErrOptedOut (a repeat of a key that recorded one before the opt-out
// still answers that send).
func (s *Store) RecordSend(ctx context.Context, ns NewSend, idem Idempotency) (Send, bool, error) {
	if !idem.Set() {
		return Send{}, false, fmt.Errorf("store: record send: an idempotency key is required: %w", ErrInvalidInput)
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Send{}, false, fmt.Errorf("store: record send: %w", classify(err))
	}
	defer tx.Rollback()
	out, err := optedOut(ctx, tx, ns.BusinessID)
	if err != nil {
		return Send{}, false, err
	}
	if out {
		tx.Rollback()
		if send, err := s.FindSendByKey(ctx, idem); err == nil {
			return send, false, nil
		}
		return Send{}, false, fmt.Errorf("store: record send to %s: %w", ns.BusinessID, ErrOptedOut)
	}
	// sent_by: the request's actor, as the audit row names it.
	sentBy := createdBy(ctx)
	var rows []Send
	// campaign_variant_businesses' row is inserted by the first send of
	// the variant to the business (which is how businesses_sent counts each
	// business once) and has its last_sent_at moved by the others. The
	// totals row is upserted next and the hour rollup last (lock order:
	// key, send, variant business, variant, variant hour, as the flush;
	// then recordSendVersion: version business, version, version hour;
	// then the gaps).
	err = tx.SelectContext(ctx, &rows, `WITH `+claimKey(ResourceSend)+`, send AS (
			INSERT INTO campaign_sends (id, business_id, variant, message, link_id, slug, short_url,
				encoding, segments, cost_micros, currency, template_version, sent_by)
			SELECT $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15, NULLIF($16, '') FROM claimed
			RETURNING `+sendColumns+`
		), to_business AS (
			-- (xmax = 0) is true for a row inserted, not updated: the
			-- first send of the variant to the business.
			-- prev_sent_at reads back the latest send before this one.
			INSERT INTO campaign_variant_businesses AS vb (variant, business_id, last_sent_at)
			SELECT variant, business_id::uuid, sent_at FROM send
			ON CONFLICT (variant, business_id) DO UPDATE
			SET prev_sent_at = vb.last_sent_at, last_sent_at = GREATEST(vb.last_sent_at, EXCLUDED.last_sent_at)
			RETURNING (xmax = 0) AS first, date_trunc('hour', last_sent_at, 'UTC') AS last_hour,
			          CASE WHEN xmax <> 0 THEN date_trunc('hour', prev_sent_at, 'UTC') END AS prev_hour
		), totals AS (
			INSERT INTO campaign_variant_totals AS t (variant, sends, businesses_sent, segments, cost_micros)
			SELECT variant, 1, (SELECT COUNT(*) FROM to_business WHERE first), segments, cost_micros FROM send
			ON CONFLICT (variant) DO UPDATE
			SET sends = t.sends + 1, businesses_sent = t.businesses_sent + EXCLUDED.businesses_sent,
			    segments = t.segments + EXCLUDED.segments, cost_micros = t.cost_micros + EXCLUDED.cost_micros
			RETURNING variant
		), hour AS (
			-- The results windows' rollup (see CampaignResults): the send in
			-- its hour, and the business moved to the hour of its latest
			-- send when that changed. Reading totals makes this insert wait
			-- for that upsert: the variant's totals row is locked before its
			-- hour rows, and those in hour order.
			INSERT INTO campaign_variant_hours AS d (variant, hour, sends, segments, cost_micros, businesses_sent_last)
			SELECT variant, hour, SUM(sends), SUM(segments), SUM(cost_micros), SUM(moved)
			FROM (SELECT variant, date_trunc('hour', sent_at, 'UTC') AS hour, 1 AS sends, segments, cost_micros, 0 AS moved
			      FROM send
			      UNION ALL
			      SELECT s.variant, b.last_hour, 0, 0, 0, 1 FROM send s, to_business b
			      WHERE b.prev_hour IS DISTINCT FROM b.last_hour
			      UNION ALL
			      SELECT s.variant, b.prev_hour, 0, 0, 0, -1 FROM send s, to_business b
			      WHERE b.prev_hour IS NOT NULL AND b.prev_hour <> b.last_hour) u
			WHERE EXISTS (SELECT 1 FROM totals)
			GROUP BY variant, hour
			ORDER BY variant, hour
			ON CONFLICT (variant, hour) DO UPDATE
			SET sends = d.sends + EXCLUDED.sends, segments = d.segments + EXCLUDED.segments,
			    cost_micros = d.cost_micros + EXCLUDED.cost_micros,
			    businesses_sent_last = d.businesses_sent_last + EXCLUDED.businesses_sent_last
		), webhook AS (
			-- send.recorded for every enabled endpoint: queued exactly when
			-- the send is inserted (not on a repeated key). The msg id is
			-- the send's, so it is stable by construction.
			INSERT INTO webhook_deliveries (endpoint_id, msg_id, event_type, payload)
			SELECT e.id, 'msg_send_' || replace(s.id, '-', ''), $14,
			       webhook_envelope($14, now(), jsonb_build_object(
			           'id', s.id, 'business_id', s.business_id, 'variant', s.variant, 'message', s.message,
			           'short_url', s.short_url, 'slug', s.slug, 'encoding', s.encoding, 'segments', s.segments,
			           'estimated_cost', trim_scale(s.cost_micros::numeric / 1000000), 'currency', s.currency,
			           'sent_at', webhook_time(s.sent_at)))
			FROM send s CROSS JOIN webhook_endpoints e
			WHERE e.enabled
		)
		SELECT `+sendColumns+` FROM send`,
		idem.Key, idem.RequestHash, newRowID(), ns.BusinessID, ns.Variant, ns.Message, ns.LinkID, ns.Slug,
		ns.ShortURL, ns.Encoding, ns.Segments, ns.CostMicros, ns.Currency, EventSendRecorded,
		ns.TemplateVersion, sentBy)
	if ref := referenceError(err); ref != nil {
		return Send{}, false, fmt.Errorf("store: record send: %w", ref)
	}
	if err != nil {
		return Send{}, false, fmt.Errorf("store: record send: %w", classify(err))
	}
	if len(rows) == 1 {
		r := rows[0]
		if _, err := tx.ExecContext(ctx, recordSendVersion, r.Variant, versionKey(r.TemplateVersion), r.BusinessID,
			r.SentAt, r.Segments, r.CostMicros); err != nil {
			return Send{}, false, fmt.Errorf("store: record send: version rollups: %w", classify(err))
		}
		// Last, the gap rollups (gaps.go): the send joins its chains.
		if err := keepGaps(ctx, tx, gapChange{added: &chainSend{ID: r.ID, BusinessID: r.BusinessID,
			Variant: r.Variant, Version: versionKey(r.TemplateVersion), SentAt: r.SentAt}}); err != nil {
			return Send{}, false, fmt.Errorf("store: record send: %w", err)
		}
		if err := s.audit(ctx, tx, AuditSendRecorded, "send", r.ID, nil, map[string]any{
			"business_id": r.BusinessID, "variant": r.Variant, "slug": r.Slug, "segments": r.Segments}); err != nil {
			return Send{}, false, err
		}
		if err := tx.Commit(); err != nil {
			return Send{}, false, fmt.Errorf("store: record send: %w", classify(err))
		}
		return r, true, nil
	}
	tx.Rollback()
	// Lost the key: the winner has committed (ON CONFLICT waited for it).
	send, err := s.FindSendByKey(ctx, idem)
	if errors.Is(err, ErrNotFound) {
		return Send{}, false, fmt.Errorf("store: record send: key vanished: %w", err)
	}
	return send, false, err
}

// ListSends returns sends, newest first; businessID "" means every
// business.
func (s *Store) ListSends(ctx context.Context, businessID string, limit int) ([]Send, error) {
	sends := []Send{}
	err := s.db.SelectContext(ctx, &sends, `SELECT `+sendColumns+` FROM campaign_sends
		WHERE $1 = '' OR business_id = NULLIF($1, '')::uuid
		ORDER BY sent_at DESC, id DESC
		LIMIT $2`, businessID, clamp(limit, 1, 500, 100))
	if err != nil {
		return nil, fmt.Errorf("store: list sends: %w", classify(err))
	}
	return sends, nil
}

// recordSendVersion adds a send just recorded to the per-version rollups
// ($1 variant, $2 version, -1 for none, $3 business, $4 sent_at, $5
// segments, $6 cost), as RecordSend's first statement does to the
// per-variant ones: the (variant, version, business) row (inserted by the
// first such send, which is how businesses_sent counts it once; its
// last_sent_at moved by the others), then the totals, then the hours, each
// waiting for the one before (lock order: version business, version,
// version hour, as the flush).
const recordSendVersion = `WITH to_business AS (
		INSERT INTO campaign_version_businesses AS vb (variant, template_version, business_id, last_sent_at)
		VALUES ($1::text, $2::int, $3::uuid, $4::timestamptz)
		ON CONFLICT (variant, template_version, business_id) DO UPDATE
		SET prev_sent_at = vb.last_sent_at, last_sent_at = GREATEST(vb.last_sent_at, EXCLUDED.last_sent_at)
		RETURNING (xmax = 0) AS first, date_trunc('hour', last_sent_at, 'UTC') AS last_hour,
		          CASE WHEN xmax <> 0 THEN date_trunc('hour', prev_sent_at, 'UTC') END AS prev_hour
	), totals AS (
		INSERT INTO campaign_version_totals AS t (variant, template_version, sends, businesses_sent, segments, cost_micros)
		SELECT $1, $2, 1, COUNT(*) FILTER (WHERE first), $5::bigint, $6::bigint FROM to_business
		ON CONFLICT (variant, template_version) DO UPDATE
		SET sends = t.sends + 1, businesses_sent = t.businesses_sent + EXCLUDED.businesses_sent,
		    segments = t.segments + EXCLUDED.segments, cost_micros = t.cost_micros + EXCLUDED.cost_micros
		RETURNING variant
	)
	INSERT INTO campaign_version_hours AS d
		(variant, template_version, hour, sends, segments, cost_micros, businesses_sent_last)
	SELECT $1, $2, hour, SUM(sends), SUM(segments), SUM(cost_micros), SUM(moved)
	FROM (SELECT date_trunc('hour', $4, 'UTC') AS hour, 1 AS sends, $5 AS segments, $6 AS cost_micros, 0 AS moved
	      UNION ALL
	      SELECT last_hour, 0, 0, 0, 1 FROM to_business WHERE prev_hour IS DISTINCT FROM last_hour
	      UNION ALL
	      SELECT prev_hour, 0, 0, 0, -1 FROM to_business WHERE prev_hour IS NOT NULL AND prev_hour <> last_hour) u
	WHERE EXISTS (SELECT 1 FROM totals)
	GROUP BY hour
	ORDER BY hour
	ON CONFLICT (variant, template_version, hour) DO UPDATE
	SET sends = d.sends + EXCLUDED.sends, segments = d.segments + EXCLUDED.segments,
	    cost_micros = d.cost_micros + EXCLUDED.cost_micros,
	    businesses_sent_last = d.businesses_sent_last + EXCLUDED.businesses_sent_last`
