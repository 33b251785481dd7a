package db

import (
	"context"
	"fmt"
	"time"
)

// sendsOrder is the cursor order of SendsPage: newest first.
const sendsOrder = "sent"

// SendsPage lists sends newest first (businessID "" means every business),
// limit at a time, after the send cur marks (nil: from the newest). next
// marks the last row when more follow. A cursor of another listing is
// ErrInvalidInput.
func (s *Store) SendsPage(ctx context.Context, businessID string, limit int, cur *Cursor) (page []Send, next *Cursor, err error) {
	var afterAt *time.Time
	var afterID *string
	if cur != nil {
		at, perr := time.Parse(time.RFC3339Nano, cur.Key)
		if cur.Order != sendsOrder || cur.Before || perr != nil || !IsUUID(cur.ID) {
			return nil, nil, fmt.Errorf("store: sends: cursor of another listing: %w", ErrInvalidInput)
		}
		afterAt, afterID = &at, &cur.ID
	}
	limit = clamp(limit, 1, 500, 100)
	rows := []Send{}
	// The row comparison follows the index's (sent_at DESC, id DESC) order,
	// so each page starts right after the last row of the one before.
	err = s.db.SelectContext(ctx, &rows, `SELECT `+sendColumns+` FROM campaign_sends
		WHERE ($1 = '' OR business_id = NULLIF($1, '')::uuid)
		  AND ($3::timestamptz IS NULL OR (sent_at, id) < ($3::timestamptz, $4::uuid))
		ORDER BY sent_at DESC, id DESC
		LIMIT $2`, businessID, limit+1, afterAt, afterID)
	if err != nil {
		return nil, nil, fmt.Errorf("store: sends: %w", classify(err))
	}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = &Cursor{Order: sendsOrder, Key: last.SentAt.UTC().Format(time.RFC3339Nano), ID: last.ID}
	}
	return rows, next, nil
}
