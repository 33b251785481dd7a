package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// CORS for the APIs a browser page on another origin calls (Shlink's web
// client, a single-page app): /api/v1 and /rest/ only, for the origins in
// CORS_ALLOWED_ORIGINS (none by default), never with credentials: both
// APIs authenticate by a header the page sends itself, so cookies are
// never needed and never allowed. Admin pages never get CORS headers.
const (
	corsMethods = "GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS"
	// corsHeaders are the request headers the APIs read.
	corsHeaders = "Authorization, X-Api-Key, Content-Type, Idempotency-Key"
	// corsExposed are the answer headers a page may read.
	corsExposed = "Location, Retry-After, X-Request-Id, WWW-Authenticate"
	corsMaxAge  = "600"
)

// corsPath reports whether path belongs to an API that answers CORS.
func corsPath(path string) bool {
	return path == "/api/v1" || strings.HasPrefix(path, "/api/v1/") || strings.HasPrefix(path, "/rest/")
}

// corsAllowed returns the Access-Control-Allow-Origin value for origin, or
// "" when it is not allowed.
func (h *Base) corsAllowed(origin string) string {
	switch {
	case origin == "" || len(h.Cfg.CORSAllowedOrigins) == 0:
		return ""
	case slices.Contains(h.Cfg.CORSAllowedOrigins, "*"):
		return "*"
	case slices.Contains(h.Cfg.CORSAllowedOrigins, origin):
		return origin
	}
	return ""
}

// cors runs first on every request (ExceptOnRedirect, web/middleware.go),
// whatever the route, since Echo names an unknown path by the catch-all
// redirect route: a preflight is answered (done) whether or not the route
// exists for OPTIONS, and before authentication, which a preflight never
// carries; an API call gets the headers that let the page read the answer.
func (h *Base) cors(c echo.Context) (done bool, err error) {
	req := c.Request()
	if !corsPath(req.URL.Path) {
		return false, nil
	}
	res := c.Response().Header()
	res.Add(echo.HeaderVary, echo.HeaderOrigin)
	allow := h.corsAllowed(req.Header.Get(echo.HeaderOrigin))
	preflight := req.Method == http.MethodOptions && req.Header.Get(echo.HeaderAccessControlRequestMethod) != ""
	if preflight {
		res.Add(echo.HeaderVary, echo.HeaderAccessControlRequestMethod)
		res.Add(echo.HeaderVary, echo.HeaderAccessControlRequestHeaders)
		if allow == "" {
			// No CORS headers: the browser refuses the call.
			return true, c.NoContent(http.StatusNoContent)
		}
		res.Set(echo.HeaderAccessControlAllowOrigin, allow)
		res.Set(echo.HeaderAccessControlAllowMethods, corsMethods)
		res.Set(echo.HeaderAccessControlAllowHeaders, corsHeaders)
		res.Set(echo.HeaderAccessControlMaxAge, corsMaxAge)
		return true, c.NoContent(http.StatusNoContent)
	}
	if allow != "" {
		res.Set(echo.HeaderAccessControlAllowOrigin, allow)
		res.Set(echo.HeaderAccessControlExposeHeaders, corsExposed)
	}
	return false, nil
}
