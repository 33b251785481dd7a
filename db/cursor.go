package db

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// Cursor marks a row of a listing in its order, so the next (or previous)
// page starts right after (before) it: a keyset page costs the same on the
// first page and the millionth, and rows inserted meanwhile never shift it.
// Order is the listing order the cursor belongs to; Key is that order's
// value for the row (a time, a count, a name) and ID breaks ties.
type Cursor struct {
	Order  string
	Before bool // a page ending just before the row, rather than starting after it
	Key    string
	ID     string
	// Snapshot is set in the orders by a count that changes while a client
	// walks (clicks): the database snapshot the page was read in and when
	// (see linkCursorStale). Empty in the orders whose key never changes.
	Snapshot string
}

// cursorVersion prefixes every encoded cursor so a future format can tell
// old ones apart: "1" has no snapshot, "2" has one before the key.
const (
	cursorVersion         = "1"
	cursorVersionSnapshot = "2"
)

// String encodes the cursor as an opaque URL-safe token.
func (c Cursor) String() string {
	dir := "a"
	if c.Before {
		dir = "b"
	}
	// The key goes last: it is the one part that may contain the separator.
	parts := []string{cursorVersion, c.Order, dir, c.ID, c.Key}
	if c.Snapshot != "" {
		parts = []string{cursorVersionSnapshot, c.Order, dir, c.ID, c.Snapshot, c.Key}
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "|")))
}

// ParseCursor decodes a token made by Cursor.String. It checks the shape
// only; a listing checks that the cursor belongs to its order.
func ParseCursor(token string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor: not a cursor token: %w", ErrInvalidInput)
	}
	parts := strings.SplitN(string(raw), "|", 5)
	var snapshot string
	if len(parts) == 5 && parts[0] == cursorVersionSnapshot {
		snapshot, parts[4], _ = strings.Cut(parts[4], "|")
		if snapshot == "" || parts[4] == "" {
			return Cursor{}, fmt.Errorf("cursor: not a cursor token: %w", ErrInvalidInput)
		}
		parts[0] = cursorVersion
	}
	if len(parts) != 5 || parts[0] != cursorVersion || (parts[2] != "a" && parts[2] != "b") {
		return Cursor{}, fmt.Errorf("cursor: not a cursor token: %w", ErrInvalidInput)
	}
	return Cursor{Order: parts[1], Before: parts[2] == "b", ID: parts[3], Key: parts[4], Snapshot: snapshot}, nil
}

// keysetPage turns rows read with LIMIT limit+1 after (or, for a Before
// cursor, before and in reverse) cur into one page in display order, and
// the cursors of the pages either side; mark makes a row's cursor. Every
// cursor listing pages through it, so they all behave alike at the ends.
func keysetPage[T any](rows []T, limit int, cur *Cursor, mark func(row T, before bool) Cursor) (page []T, prev, next *Cursor) {
	before := cur != nil && cur.Before

	more := len(rows) > limit
	page = rows[:min(len(rows), limit)]
	if before {
		slices.Reverse(page)
	}
	if page == nil {
		page = []T{}
	}
	switch {
	case len(page) == 0 && cur != nil:
		// Past either end: offer the way back to where the cursor was.
		back := *cur
		back.Before = !back.Before
		if before {
			next = &back
		} else {
			prev = &back
		}
	case len(page) > 0:
		if (before && more) || (!before && cur != nil) {
			first := mark(page[0], true)
			prev = &first
		}
		if (!before && more) || before {
			last := mark(page[len(page)-1], false)
			next = &last
		}
	}
	return page, prev, next
}

// Count is a number of rows, exact or estimated from the planner's
// statistics when counting exactly would read too many rows.
type Count struct {
	N         int64
	Estimated bool
}

// exactCountLimit is how many matching rows a listing counts exactly; past
// it the total is the planner's estimate, so a count never reads more than
// this many rows however big the table grows.
const exactCountLimit = 1000
