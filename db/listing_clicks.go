package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// ErrCursorStale means a listing cursor can no longer be followed without
// skipping or repeating a row: the order it was issued in has changed
// around its position. The client starts the walk again.
var ErrCursorStale = errors.New("the listing order changed since this cursor was issued")

// cursorMaxAge is how long a cursor of a clicks order may be followed; older
// ones are stale by age, so the moves they would need can be pruned.
const cursorMaxAge = time.Hour

// listLinksByClicks reads a page of a clicks order in a REPEATABLE READ
// transaction: the cursor's staleness is checked, and the page read, in
// the one snapshot the page's own cursors then carry.
func (s *Store) listLinksByClicks(ctx context.Context, f ListFilter) (LinkPage, error) {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return LinkPage{}, fmt.Errorf("store: list links: %w", classify(err))
	}
	defer tx.Rollback()
	var now struct {
		Snapshot string `db:"snapshot"`
		Millis   int64  `db:"millis"`
	}
	// First statement: it fixes the transaction's snapshot.
	if err := tx.GetContext(ctx, &now, linkCursorSnapshot); err != nil {
		return LinkPage{}, fmt.Errorf("store: list links: %w", classify(err))
	}
	if f.Cursor != nil {
		if _, _, err := f.Sort.parseCursor(*f.Cursor); err != nil {
			return LinkPage{}, err // another listing's cursor: bad input, not stale
		}
		if err := linkCursorStale(ctx, tx, *f.Cursor, now.Millis); err != nil {
			return LinkPage{}, err
		}
	}
	page, err := s.listLinks(ctx, tx, f)
	if err != nil {
		return LinkPage{}, err
	}
	snapshot := strconv.FormatInt(now.Millis, 10) + "@" + now.Snapshot
	for _, c := range []*Cursor{page.Prev, page.Next} {
		if c != nil {
			c.Snapshot = snapshot
		}
	}
	return page, nil
}

// linkCursorSnapshot is the snapshot of the transaction and the database
// clock, in milliseconds.
const linkCursorSnapshot = `SELECT pg_current_snapshot()::text AS snapshot,
	(extract(epoch FROM now()) * 1000)::bigint AS millis`

// linkCursorMoved reports whether a flush that the cursor's snapshot ($1)
// did not see moved some link's count across the cursor's count ($2): then
// a link not yet listed may have jumped to the part already walked, or
// back. Conservative: a move ending or starting at the cursor's count
// counts, whatever the ids. The xid index finds the moves since the
// snapshot's xmin; each row is a whole flush's moves as one multirange.
const linkCursorMoved = `SELECT EXISTS (
	SELECT 1 FROM link_count_moves m
	WHERE m.xid >= pg_snapshot_xmin($1::pg_snapshot)
	  AND NOT pg_visible_in_snapshot(m.xid, $1::pg_snapshot)
	  AND m.moved @> $2::bigint)`

// linkCursorStale returns ErrCursorStale when following c could skip or
// repeat a link: c is older than cursorMaxAge (by the database clock, nowMillis), carries no snapshot (a
// cursor from before snapshots, or forged), or a flush it did not see
// moved a count across its position. tx must be the page's transaction,
// so every move not checked here is also absent from the page it reads.
func linkCursorStale(ctx context.Context, tx *sqlx.Tx, c Cursor, nowMillis int64) error {
	ms, snapshot, ok := strings.Cut(c.Snapshot, "@")
	issued, err := strconv.ParseInt(ms, 10, 64)
	key, kerr := strconv.ParseInt(c.Key, 10, 64)
	if !ok || err != nil || kerr != nil {
		return fmt.Errorf("store: list links: %w", ErrCursorStale)
	}
	if time.Duration(nowMillis-issued)*time.Millisecond > cursorMaxAge {
		return fmt.Errorf("store: list links: %w", ErrCursorStale)
	}
	var moved bool
	if err := tx.GetContext(ctx, &moved, linkCursorMoved, snapshot, key); err != nil {
		if errors.Is(classify(err), ErrInvalidInput) {
			// Not a snapshot PostgreSQL can read: a damaged cursor.
			return fmt.Errorf("store: list links: cursor: %w", ErrInvalidInput)
		}
		return fmt.Errorf("store: list links: %w", classify(err))
	}
	if moved {
		return fmt.Errorf("store: list links: %w", ErrCursorStale)
	}
	return nil
}
