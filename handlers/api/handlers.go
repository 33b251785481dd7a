// Package api serves the JSON API under /api/v1 (an API key as a Bearer
// token, checked by web's Authorize with every route's permission): links,
// businesses, SMS previews, sends (with Idempotency-Key), campaign results
// and duplicate health; and, with no
// token, its OpenAPI document (/api/v1/openapi.json, openapi.go) and that
// document as a page (/api/docs, api_docs.go). Errors are JSON through
// web's one error mapping.
//
// It may import handlers/web, db, views (the docs page), the campaign
// domain (handlers/campaign) and the pure rule packages (access, phone,
// stats, urlpolicy); never another surface
// (handlers/admin, shlink, public, ops) nor the root handlers package. Its
// routes are lines of the root package's table (handlers/handlers.go).
package api

import (
	"github.com/shortlinks/shortlinks/handlers/web"
)

// Handlers serves the JSON API; build it with New.
type Handlers struct {
	*web.Base
}

// New returns the API's handlers; it starts nothing.
func New(base *web.Base) *Handlers { return &Handlers{Base: base} }
