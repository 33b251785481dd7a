// Package campaign holds the SMS rules of a campaign: the variants and their
// templates (templates.go), a business's message rendered around its short
// link (preview.go), how many segments it takes and in which encoding
// (segments.go), what it costs (cost.go), and recording a send (sends.go).
//
// Service.Preview is the one entry point the admin page, the API and sends
// call: a handler calls it, it reads and writes through db.Store, and the
// handler turns its Preview into a view model or JSON. Nothing here knows
// HTTP: a request the rules refuse is an *Error, which handlers/web maps to
// a status in its one error mapping (errors.go).
//
// It may import db only; it starts no goroutine.
package campaign

import (
	"fmt"

	"github.com/shortlinks/shortlinks/db"
)

// Service applies the campaign rules over the store. Build it once (web.NewBase
// does) and share it: it holds no state of its own.
type Service struct {
	Store *db.Store
	// Rate is the price of one segment.
	Rate Rate
	// Templates are the configured templates (SMS_TEMPLATE_* over the
	// shipped ones); the console's edits, read from the store, win over them.
	Templates Templates
	// Destination turns a business's site URL into a link destination,
	// normalized exactly as POST /api/v1/links does; its error is safe to show.
	Destination func(siteURL string) (string, error)
	// ShortURL is the public URL of a slug.
	ShortURL func(slug string) string
}

// Kind says how a refused request is answered.
type Kind int

// The kinds of Error.
const (
	// Invalid is bad input in Field (400).
	Invalid Kind = iota
	// NotFound is a business that does not exist (404).
	NotFound
	// Unusable is a business the rules cannot make a message for (422).
	Unusable
)

// Error is a request the campaign rules refuse, with a message safe to show.
type Error struct {
	Kind    Kind
	Code    string // stable code for the API; for Invalid and NotFound, web supplies it
	Field   string
	Message string
	Allowed []string // the valid values, when the input was not one of them
}

func (e *Error) Error() string { return "campaign: " + e.Message }

func invalid(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// errNoBusiness is the answer for a business that does not exist.
func errNoBusiness() *Error { return &Error{Kind: NotFound, Message: "business not found"} }

// UnknownVariant is the error for a variant key that names no variant.
func UnknownVariant(v string) *Error {
	e := invalid("variant", "unknown variant %q: use one of %s", v, joinVariants())
	e.Allowed = Variants()
	return e
}
