package handlers

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/urlpolicy"
)

// normalizeURL applies the destination policy; its message is safe to show.
func (h *Handlers) normalizeURL(raw string) (string, error) {
	u, err := h.cfg.URLPolicy.Normalize(raw)
	var perr *urlpolicy.Error
	if errors.As(err, &perr) {
		return "", errors.New(perr.Reason)
	}
	return u, err
}

// maxSlugLength bounds slugs we look up; generated ones are far shorter.
const maxSlugLength = 32

// validSlug reports whether s could be a slug: 1–32 of [A-Za-z0-9]. Anything
// else is answered 404 without touching the database.
func validSlug(s string) bool {
	if s == "" || len(s) > maxSlugLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// isUUID reports whether s is a canonical textual UUID (8-4-4-4-12 hex).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// pageParams reads limit and offset from the query, clamped to sane ranges
// (a bad number falls back to the default rather than failing the listing).
func pageParams(c echo.Context, def int) (limit, offset int) {
	limit = queryInt(c, "limit", def, 1, 500)
	offset = queryInt(c, "offset", 0, 0, 1_000_000)
	return limit, offset
}

func queryInt(c echo.Context, name string, def, lo, hi int) int {
	v, err := strconv.Atoi(c.QueryParam(name))
	if err != nil {
		return def
	}
	return min(max(v, lo), hi)
}

// maxSearchLength bounds search text (in characters).
const maxSearchLength = 200

// searchParam reads the search text of a listing: plain text of bounded
// length, else a 400 naming the parameter (PostgreSQL would refuse a NUL or
// invalid UTF-8 with an error, not an empty result).
func searchParam(c echo.Context, name string) (string, error) {
	q := strings.TrimSpace(c.QueryParam(name))
	switch {
	case !isPlainText(q):
		return "", invalid(name, "the search text (%s) contains characters that are not text", name)
	case utf8.RuneCountInString(q) > maxSearchLength:
		return "", invalid(name, "the search text (%s) must be at most %d characters", name, maxSearchLength)
	}
	return q, nil
}

// isPlainText reports whether s is valid UTF-8 on one line with nothing
// invisible or deceptive: no control characters, no format characters
// (bidi overrides, zero-width joiners), no line or paragraph separators,
// and no replacement character (a sign of bytes lost in decoding).
func isPlainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
