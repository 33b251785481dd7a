// Package shlink serves a Shlink-compatible REST API v3 under /rest (key in
// X-Api-Key, checked by web's RequireToken through RequireAPIKey) for
// Shlink's clients and SDKs: short URLs (create, list, get, delete), visits
// and health. Its errors are RFC 7807 problem details (shlink_errors.go:
// WriteProblem, which the root package hands to web's error handler for
// /rest/).
//
// It may import handlers/web, db and the pure logic packages; never another
// surface (handlers/admin, api, public, ops), views, nor the root handlers
// package. Its routes are lines of the root package's table
// (handlers/handlers.go).
package shlink

import (
	"github.com/shortlinks/shortlinks/handlers/web"
)

// Handlers serves the Shlink API; build it with New.
type Handlers struct {
	*web.Base
}

// New returns the Shlink API's handlers; it starts nothing.
func New(base *web.Base) *Handlers { return &Handlers{Base: base} }
