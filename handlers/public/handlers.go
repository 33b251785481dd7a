// Package public serves what a recipient reaches: the redirect /:slug
// (redirect.go), with the unknown-slug limit that answers a guesser 429
// before any lookup (slug_guessing.go), and the redirect path's figures for
// /metrics (metrics_redirect.go). Its cache and click counting are the
// redirect service (handlers/redirects), built and started by the caller
// and reached through web.Base.Redirects.
//
// It may import handlers/web, handlers/redirects and db; never another
// surface (handlers/admin, api, shlink, ops), views, nor the root handlers
// package. Its route is a line of the root package's table
// (handlers/handlers.go); the page middleware skips it (web's
// ExceptOnRedirect).
package public

import (
	"github.com/shortlinks/shortlinks/handlers/web"
)

// Handlers serves the public redirect; build it with New.
type Handlers struct {
	*web.Base
	guesses *guessGate // slug_guessing.go: the unknown-slug limit, before any lookup
}

// New returns the redirect's handler and registers the redirect figures in
// base's metrics registry; it starts nothing.
func New(base *web.Base) *Handlers {
	h := &Handlers{Base: base, guesses: newGuessGate(base.Limits.NotFound)}
	registerRedirectMetrics(base.Metrics.Reg, h) // metrics_redirect.go
	return h
}
