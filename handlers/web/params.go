package web

import (
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// Params is route middleware for the JSON API's GET routes: every query
// parameter is one the route honours, or a 400 naming it, and one whose
// value is not valid URL encoding (cursor=%%%) is a 400 naming it too.
// Without it Echo reads a malformed query as no parameters at all, so a
// bad cursor would silently answer the first page.
func Params(allowed ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := checkQuery(c.Request().URL.RawQuery, allowed); err != nil {
				return err
			}
			return next(c)
		}
	}
}

func checkQuery(raw string, allowed []string) error {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return Invalid(rawKey, "the query parameter %q is not valid URL encoding", rawKey)
		}
		if !slices.Contains(allowed, key) {
			e := Invalid(key, "unknown query parameter %s", key)
			if len(allowed) > 0 {
				e.Message += "; this endpoint takes " + strings.Join(allowed, ", ")
			} else {
				e.Message += "; this endpoint takes none"
			}
			e.Allowed = allowed
			return e
		}
		if _, err := url.QueryUnescape(rawValue); err != nil {
			return Invalid(key, "%s is not valid URL encoding (escape %% as %%25)", key)
		}
	}
	return nil
}
