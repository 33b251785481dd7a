package handlers

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

// recoverPanics turns a panic into a 500 whose details go only to the log.
func (h *Handlers) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r) // net/http closes the connection quietly
				}
				h.log.ErrorContext(c.Request().Context(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// requestID gives every request an ID, echoed in X-Request-Id and put in
// the request's context, where the logger finds it for every line of the
// request, the store's included (requestlog). A well-formed incoming ID
// (from a proxy) is kept.
func (h *Handlers) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		r := c.Request()
		c.SetRequest(r.WithContext(requestlog.WithID(r.Context(), id)))
		return next(c)
	}
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

// logRequests writes one structured line per request at debug level, and
// at info for errors, so the hot redirect path costs little by default.
func (h *Handlers) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
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
		if h.log.Enabled(c.Request().Context(), level) {
			h.log.Log(c.Request().Context(), level, "request",
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

// securityHeaders sets the headers above on every response, and
// Strict-Transport-Security when the service is served over https.
func securityHeaders(baseURL string) echo.MiddlewareFunc {
	values := maps.Clone(securityHeaderValues)
	if strings.HasPrefix(baseURL, "https://") {
		values["Strict-Transport-Security"] = hstsValue
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			hdr := c.Response().Header()
			for k, v := range values {
				hdr[k] = v
			}
			return next(c)
		}
	}
}

// noStoreValue keeps private answers (admin pages, API data) out of
// browser and proxy caches.
var noStoreValue = []string{"no-store"}

// noStore marks a response as not to be cached.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header()[echo.HeaderCacheControl] = noStoreValue
		return next(c)
	}
}
