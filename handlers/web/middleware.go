package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/requestlog"
)

// ExceptOnRedirect is the server's one middleware. On every request it
// first answers CORS (cors.go), then runs the page middleware (metrics,
// panic recovery, request ID, request log, security headers) for every
// route except the redirect. Echo also names an unknown path by the
// catch-all redirect route, so such a 404 skips the page middleware too
// (its answer is a page; handleError sets its headers). A redirect is a
// body-less 302 to a third-party site: a CSP protects nothing there, and a
// request ID, a log line and a latency histogram per tap would cost more
// than the redirect itself, whose outcomes the redirects service already
// counts (shortlinks_redirects_total). Its errors (404, 410, 429, 503) are
// pages, and get the page headers from handleError.
//
// It is one Echo middleware rather than five because Echo wraps the global
// middleware around the handler on every request: the redirect then pays
// for one closure, not for five.
//
// Echo calls it on every request, and the closure it returns is the
// redirect's one allocation: it holds only next and a pointer to the
// rest (exceptOnRedirect).
func (h *Base) ExceptOnRedirect(redirectRoute string, page ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	x := &exceptOnRedirect{base: h, route: redirectRoute, page: page}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return x.serve(c, next) }
	}
}

type exceptOnRedirect struct {
	base  *Base
	route string
	page  []echo.MiddlewareFunc
}

func (x *exceptOnRedirect) serve(c echo.Context, next echo.HandlerFunc) error {
	if done, err := x.base.cors(c); done {
		return err
	}
	if c.Path() == x.route {
		return x.base.callRecovering(c, next)
	}
	for i := len(x.page) - 1; i >= 0; i-- {
		next = x.page[i](next)
	}
	return next(c)
}

// RecoverPanics turns a panic into a 500 whose details go only to the log.
func (h *Base) RecoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error { return h.callRecovering(c, next) }
}

// callRecovering calls next, turning a panic into an error.
func (h *Base) callRecovering(c echo.Context, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r) // net/http closes the connection quietly
			}
			h.Log.ErrorContext(c.Request().Context(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return next(c)
}

// RequestID gives every request an ID, echoed in X-Request-Id and put in
// the request's context, where the logger finds it for every line of the
// request, the store's included (requestlog). A well-formed incoming ID
// (from a proxy) is kept.
func (h *Base) RequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setRequestID(c)
		return next(c)
	}
}

// setRequestID sets X-Request-Id and the request context's ID unless the
// response has one already (handleError calls it for the redirect route,
// which runs without requestID).
func setRequestID(c echo.Context) {
	if c.Response().Header().Get(echo.HeaderXRequestID) != "" {
		return
	}
	id := c.Request().Header.Get(echo.HeaderXRequestID)
	if !validRequestID(id) {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Response().Header().Set(echo.HeaderXRequestID, id)
	r := c.Request()
	c.SetRequest(r.WithContext(requestlog.WithID(r.Context(), id)))
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// LogRequests writes one structured line per request at debug level, and
// at info for errors, so the hot redirect path costs little by default.
func (h *Base) LogRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		level := slog.LevelDebug
		if status >= 400 {
			level = slog.LevelInfo
		}
		if h.Log.Enabled(c.Request().Context(), level) {
			h.Log.Log(c.Request().Context(), level, "request",
				"method", c.Request().Method, "path", c.Request().URL.Path, "status", status,
				"duration", time.Since(start), "ip", c.RealIP())
		}
		return nil
	}
}

// Security headers, built once: setting them is a map assignment per
// request, with no allocation on the hot redirect path.
var securityHeaderValues = map[string][]string{
	// Pages load only their own scripts and styles: no inline code, so an
	// injected <script> would not run even if escaping ever failed.
	"Content-Security-Policy": {"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
	"X-Content-Type-Options": {"nosniff"},
	"X-Frame-Options":        {"DENY"},
	"Referrer-Policy":        {"same-origin"},
}

// hstsValue tells browsers to use https only for a year. It is sent only
// when BASE_URL is https, and without includeSubDomains: sibling hosts of
// the short domain are not ours to commit to https.
var hstsValue = []string{"max-age=31536000"}

// pageHeaders are the headers above, and Strict-Transport-Security when
// the service is served over https (built once, in New).
func pageHeaders(baseURL string) map[string][]string {
	values := maps.Clone(securityHeaderValues)
	if strings.HasPrefix(baseURL, "https://") {
		values["Strict-Transport-Security"] = hstsValue
	}
	return values
}

// securityHeaders sets values (pageHeaders) on every response.
func SecurityHeaders(values map[string][]string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			setHeaders(c, values)
			return next(c)
		}
	}
}

// setHeaders assigns values to the response headers; handleError calls it
// too, so an error page is protected whatever route it answers for.
func setHeaders(c echo.Context, values map[string][]string) {
	hdr := c.Response().Header()
	for k, v := range values {
		hdr[k] = v
	}
}

// noStoreValue keeps private answers (admin pages, API data) out of
// browser and proxy caches.
var noStoreValue = []string{"no-store"}

// noStore marks a response as not to be cached.
func NoStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header()[echo.HeaderCacheControl] = noStoreValue
		return next(c)
	}
}
