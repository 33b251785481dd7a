package handlers

import (
	"strconv"

	"github.com/labstack/echo/v4"
)

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
