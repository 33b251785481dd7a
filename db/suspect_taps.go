package db

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"
)

// SuspectBatch is the suspect taps (taps by a client over the unknown-slug
// limit, redirected but not counted as clicks) gathered since the last
// flush, per link. ID makes the flush idempotent: a batch whose commit
// outcome was lost is sent again with the same ID and adds nothing.
type SuspectBatch struct {
	ID    string
	Links []int64 // ascending: the flush locks rows in this order
	Taps  []int64 // taps of Links[i]
}

// FlushSuspectTaps adds a batch to link_suspect_taps, once per batch ID;
// applied is false when an earlier attempt had already committed it.
//
// Two statements in one transaction, in this order: the batch ID is
// claimed first (a retry finds it and stops), then the counters are
// upserted in link order, so two instances flushing at once lock the same
// rows in the same order. Links deleted since the taps are skipped (their
// rows would be deleted with them anyway).
func (s *Store) FlushSuspectTaps(ctx context.Context, b SuspectBatch) (applied bool, err error) {
	if !slices.IsSorted(b.Links) || len(b.Links) != len(b.Taps) {
		return false, fmt.Errorf("store: flush suspect taps: links unsorted or taps missing: %w", ErrInvalidInput)
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: flush suspect taps: %w", classify(err))
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO suspect_tap_flushes (batch_id) VALUES ($1) ON CONFLICT (batch_id) DO NOTHING`, b.ID)
	if err != nil {
		return false, fmt.Errorf("store: flush suspect taps: claim batch: %w", classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil // applied by an earlier attempt
	}
	// ORDER BY: rows are inserted, hence locked, in link order.
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO link_suspect_taps (link_id, taps)
		SELECT u.link_id, u.taps
		FROM unnest($1::bigint[], $2::bigint[]) AS u(link_id, taps)
		JOIN short_links l ON l.id = u.link_id
		ORDER BY u.link_id
		ON CONFLICT (link_id) DO UPDATE
		SET taps = link_suspect_taps.taps + EXCLUDED.taps, last_flushed_at = now()`,
		pq.Int64Array(b.Links), pq.Int64Array(b.Taps)); err != nil {
		return false, fmt.Errorf("store: flush suspect taps: %w", classify(err))
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: flush suspect taps: commit: %w", classify(err))
	}
	return true, nil
}

// PruneSuspectFlushes forgets the IDs of suspect-tap batches applied before
// cutoff.
func (s *Store) PruneSuspectFlushes(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM suspect_tap_flushes WHERE flushed_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: prune suspect flushes: %w", classify(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// SuspectTaps returns a link's suspect taps written so far (0 for none).
func (s *Store) SuspectTaps(ctx context.Context, linkID int64) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, `SELECT COALESCE((SELECT taps FROM link_suspect_taps WHERE link_id = $1), 0)`, linkID)
	if err != nil {
		return 0, fmt.Errorf("store: suspect taps of link %d: %w", linkID, classify(err))
	}
	return n, nil
}
