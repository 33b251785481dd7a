package db

import (
	"encoding/base64"
	"fmt"
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
}

// cursorVersion prefixes every encoded cursor so a future format can tell
// old ones apart.
const cursorVersion = "1"

// String encodes the cursor as an opaque URL-safe token.
func (c Cursor) String() string {
	dir := "a"
	if c.Before {
		dir = "b"
	}
	// The key goes last: it is the one part that may contain the separator.
	raw := strings.Join([]string{cursorVersion, c.Order, dir, c.ID, c.Key}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor decodes a token made by Cursor.String. It checks the shape
// only; a listing checks that the cursor belongs to its order.
func ParseCursor(token string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor: not a cursor token: %w", ErrInvalidInput)
	}
	parts := strings.SplitN(string(raw), "|", 5)
	if len(parts) != 5 || parts[0] != cursorVersion || (parts[2] != "a" && parts[2] != "b") {
		return Cursor{}, fmt.Errorf("cursor: not a cursor token: %w", ErrInvalidInput)
	}
	return Cursor{Order: parts[1], Before: parts[2] == "b", ID: parts[3], Key: parts[4]}, nil
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
