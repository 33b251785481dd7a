package public

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/redirects"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// redirectCacheControl is the Cache-Control of every answer on /:slug: browsers and
// proxies may keep nothing, so every tap reaches us (and is counted), and a
// 404 or 410 is not remembered after the link is created or reactivated.
// Like the Location value, it is a shared slice assigned to the header map
// directly (keys already canonical), sparing two allocations per redirect.
var redirectCacheControl = []string{"private, max-age=0"}

// redirectRoute is the route of Redirect; the page middleware skips it.
const redirectRoute = "/:slug"

// Redirect is GET and HEAD /:slug: send the recipient on and count the tap.
// The answer comes from the redirects cache, so a hot slug costs no database
// round trip; the click is counted in memory before the response is
// written, so every redirect a client receives is in the next flush.
//
// A client over the unknown-slug limit is answered 429 before any lookup,
// whatever slug it asks for (slug_guessing.go).
func (h *Handlers) Redirect(c echo.Context) error {
	c.Response().Header()[echo.HeaderCacheControl] = redirectCacheControl
	if err := h.guesses.check(c); err != nil {
		return err
	}
	slug := c.Param("slug")
	if !web.ValidSlug(slug) {
		return h.guesses.miss(c)
	}
	req := c.Request()
	t, err := h.Redirects.Lookup(req.Context(), slug)
	if err != nil {
		if errors.Is(err, redirects.ErrBusy) {
			return errRedirectsBusy
		}
		return err
	}
	switch t.Status {
	case redirects.NotFound:
		return h.guesses.miss(c)
	case redirects.Gone:
		return errLinkGone
	}
	preview := req.Method == http.MethodHead || redirects.IsPrefetch(req.Header) || h.Redirects.FromPreviewer(req.UserAgent())
	h.Redirects.Count(t, preview)
	c.Response().Header()[echo.HeaderLocation] = t.LocationHeader()
	c.Response().WriteHeader(h.Cfg.RedirectStatus)
	return nil
}

// The failures of Redirect; the error handler renders them as HTML pages.
var (
	errLinkGone = &web.APIError{Status: http.StatusGone, Code: "gone", Message: "This short link has been retired."}
	// errRedirectsBusy: the lookups of uncached links are all taken (see
	// redirects.Options.MaxLookups); the client may retry in a second.
	errRedirectsBusy = &tooManyLookups{web.APIError{Status: http.StatusServiceUnavailable, Code: "busy",
		Message: "Too many requests right now. Try again in a moment."}}
)

// tooManyLookups is a 503 that carries Retry-After: 1.
type tooManyLookups struct{ web.APIError }

// RetryAfter is the Retry-After header value.
func (e *tooManyLookups) RetryAfter() string { return "1" }

// Unwrap lets errors.As find the APIError inside.
func (e *tooManyLookups) Unwrap() error { return &e.APIError }

// RedirectStats returns the counters of the redirect path (cache, clicks,
// flushes); /metrics reads them at every scrape.
func (h *Handlers) RedirectStats() RedirectStats {
	st := h.Redirects.Stats()
	st.Limited = h.guesses.limited.Load()
	return st
}
