package db

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// TimedOut reports whether the database cancelled a statement for running
// out of time (its statement or lock timeout), rather than failing to
// answer at all: the flusher splits a batch that keeps timing out, and
// waits out an outage (a caller's deadline passing is taken for one).
func TimedOut(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && (pqErr.Code == "57014" || pqErr.Code == "55P03") // query_canceled, lock_not_available
}

// AbandonClickBatch makes sure the batch id will never be applied: it
// claims the id in click_flushes unless a flush already did. applied is
// true when an earlier attempt had in fact committed (its counts are in);
// false means nothing of it was applied and nothing ever will be, so its
// rows may be sent again under new ids (the flusher splits a batch that
// keeps failing this way). An attempt still running holds the id
// uncommitted: the claim waits for it and then sees how it ended.
func (s *Store) AbandonClickBatch(ctx context.Context, id string) (applied bool, err error) {
	err = s.inFlushTx(ctx, func(tx *sqlx.Tx) error {
		var claimed []string
		if err := tx.SelectContext(ctx, &claimed, flushClaimBatch, id); err != nil {
			return err
		}
		applied = len(claimed) == 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: abandon click batch %s: %w", id, err)
	}
	return applied, nil
}

// ClickDeadLetter is a batch of one link the flusher could not write: its
// counts wait here, shown on the health page, until an admin replays it.
type ClickDeadLetter struct {
	ID        int64     `db:"id"`
	LinkID    int64     `db:"link_id"`
	Slug      *string   `db:"slug"` // nil when the link has been deleted since
	Clicks    int64     `db:"clicks"`
	Previews  int64     `db:"previews"`
	Error     string    `db:"error"`
	Attempts  int       `db:"attempts"`
	CreatedAt time.Time `db:"created_at"`
}

// DeadLetterClicks moves a batch that kept failing into
// click_dead_letters, in one transaction with the claim of its old id
// (failedID; see AbandonClickBatch): applied is true, and no letter
// written, when that id had in fact been applied. b must count on a single
// link and carry a new id, which a replay flushes it under.
func (s *Store) DeadLetterClicks(ctx context.Context, failedID string, b ClickBatch, reason string, attempts int) (applied bool, err error) {
	body, err := json.Marshal(b)
	if err != nil {
		return false, fmt.Errorf("store: dead-letter clicks: %w", err)
	}
	var link, clicks, previews int64
	for _, r := range b.Rows {
		link, clicks, previews = r.LinkID, clicks+r.Clicks, previews+r.Previews
	}
	for _, t := range b.Taps {
		link = cmp.Or(link, t.Counted)
	}
	err = s.inFlushTx(ctx, func(tx *sqlx.Tx) error {
		var claimed []string
		if err := tx.SelectContext(ctx, &claimed, flushClaimBatch, failedID); err != nil {
			return err
		}
		if applied = len(claimed) == 0; applied {
			return nil
		}
		_, err := tx.ExecContext(ctx, insertClickDeadLetter, b.ID, link, clicks, previews, string(body), reason, attempts)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: dead-letter clicks of link %d: %w", link, err)
	}
	return applied, nil
}

// insertClickDeadLetter keeps a batch and why it failed.
const insertClickDeadLetter = `INSERT INTO click_dead_letters (batch_id, link_id, clicks, previews, batch, error, attempts)
	VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)`

// ClickDeadLetters lists the batches waiting for a replay, oldest first
// (at most limit).
func (s *Store) ClickDeadLetters(ctx context.Context, limit int) ([]ClickDeadLetter, error) {
	letters := []ClickDeadLetter{}
	err := s.db.SelectContext(ctx, &letters, `SELECT d.id, d.link_id, l.slug, d.clicks, d.previews, d.error,
			d.attempts, d.created_at
		FROM click_dead_letters d LEFT JOIN short_links l ON l.id = d.link_id
		ORDER BY d.id
		LIMIT $1`, clamp(limit, 1, 500, 100))
	if err != nil {
		return nil, fmt.Errorf("store: list click dead letters: %w", classify(err))
	}
	return letters, nil
}

// DeadLetterTotals is what click_dead_letters holds.
type DeadLetterTotals struct {
	Letters  int64 `db:"letters"`
	Clicks   int64 `db:"clicks"`
	Previews int64 `db:"previews"`
}

// ClickDeadLetterTotals counts the letters waiting and the clicks in them.
func (s *Store) ClickDeadLetterTotals(ctx context.Context) (DeadLetterTotals, error) {
	var t DeadLetterTotals
	err := s.db.GetContext(ctx, &t, `SELECT COUNT(*) AS letters, COALESCE(SUM(clicks), 0) AS clicks,
		COALESCE(SUM(previews), 0) AS previews FROM click_dead_letters`)
	if err != nil {
		return t, fmt.Errorf("store: click dead letter totals: %w", classify(err))
	}
	return t, nil
}

// ReplayClickDeadLetter writes a dead letter's batch (a flush under the
// letter's batch id, so a replay retried after a lost answer adds it once)
// and deletes the letter, in one transaction. It returns the letter
// replayed; ErrNotFound when there is no such letter (already replayed).
func (s *Store) ReplayClickDeadLetter(ctx context.Context, id int64) (ClickDeadLetter, error) {
	var letter ClickDeadLetter
	err := s.inFlushTx(ctx, func(tx *sqlx.Tx) error {
		var row struct {
			ClickDeadLetter
			Batch []byte `db:"batch"`
		}
		// Locked: two admins replaying at once apply it once.
		err := tx.GetContext(ctx, &row, `DELETE FROM click_dead_letters d WHERE id = $1
			RETURNING id, link_id, NULL::text AS slug, clicks, previews, error, attempts, created_at, batch`, id)
		if err != nil {
			return err
		}
		var b ClickBatch
		if err := json.Unmarshal(row.Batch, &b); err != nil {
			return fmt.Errorf("letter %d: %w", id, err)
		}
		letter = row.ClickDeadLetter
		if _, err := flushBatch(ctx, tx, b); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditClicksReplayed, "dead_letter", strconv.FormatInt(id, 10),
			map[string]any{"link_id": row.LinkID, "clicks": row.Clicks, "previews": row.Previews, "attempts": row.Attempts},
			nil)
	})
	if err != nil {
		return ClickDeadLetter{}, fmt.Errorf("store: replay click dead letter %d: %w", id, err)
	}
	return letter, nil
}
