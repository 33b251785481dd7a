package web

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/phone"
	"github.com/shortlinks/shortlinks/handlers/urlpolicy"
)

// NormalizeURL applies the destination policy; its message is safe to show.
func (h *Base) NormalizeURL(raw string) (string, error) {
	u, err := h.Cfg.URLPolicy.Normalize(raw)
	var perr *urlpolicy.Error
	if errors.As(err, &perr) {
		return "", errors.New(perr.Reason)
	}
	return u, err
}

// NormalizePhone is the phone rule of every form and import: E.164, a
// number without +country code read in PHONE_DEFAULT_REGION; "" stays "".
// Its error is safe to show.
func (h *Base) NormalizePhone(raw string) (string, error) {
	region := h.Cfg.PhoneRegion
	if region == "" {
		region = phone.DefaultRegion
	}
	p, err := phone.Normalize(raw, region)
	if errors.Is(err, phone.ErrInvalid) {
		return "", errors.New("phone must be a valid phone number: with its country code (+44 …), or a number of region " + region)
	}
	return p, err
}

// maxSlugLength bounds slugs we look up; generated ones are far shorter.
const maxSlugLength = 32

// validSlug reports whether s could be a slug: 1–32 of [A-Za-z0-9]. Anything
// else is answered 404 without touching the database.
func ValidSlug(s string) bool {
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

// LinkParam loads the link the route's :slug names, for every page and
// endpoint about one link: a 404 naming "link" when the slug cannot be one
// (without touching the database) or no link has it.
func (h *Base) LinkParam(c echo.Context) (db.Link, error) {
	slug := c.Param("slug")
	if !ValidSlug(slug) {
		return db.Link{}, NotFound("link")
	}
	l, err := h.Store.FindBySlug(c.Request().Context(), slug)
	if errors.Is(err, db.ErrNotFound) {
		return db.Link{}, NotFound("link")
	}
	return l, err
}

// BusinessParam loads the business the route's :id names: a 404 naming
// "business" when the id is not a UUID or no business has it.
func (h *Base) BusinessParam(c echo.Context) (db.Business, error) {
	id := c.Param("id")
	if !db.IsUUID(id) {
		return db.Business{}, NotFound("business")
	}
	b, err := h.Store.GetBusiness(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return db.Business{}, NotFound("business")
	}
	return b, err
}

// maxPageSize is the largest limit any listing accepts.
const MaxPageSize = 500

// limitParam reads ?limit= of every listing: def when absent, else a whole
// number from 1 to maxPageSize, or a 400 naming the parameter.
func LimitParam(c echo.Context, def int) (int, error) {
	return IntParam(c, "limit", def, 1, MaxPageSize)
}

// intParam reads a whole-number query parameter within [lo, hi]: def when
// absent, a 400 naming it when it is not a number or out of range.
func IntParam(c echo.Context, name string, def, lo, hi int) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, Invalid(name, "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// maxSearchLength bounds search text (in characters).
const maxSearchLength = 200

// searchParam reads the search text of a listing: plain text of bounded
// length, else a 400 naming the parameter (PostgreSQL would refuse a NUL or
// invalid UTF-8 with an error, not an empty result).
func SearchParam(c echo.Context, name string) (string, error) {
	q := strings.TrimSpace(c.QueryParam(name))
	switch {
	case !IsPlainText(q):
		return "", Invalid(name, "the search text (%s) contains characters that are not text", name)
	case utf8.RuneCountInString(q) > maxSearchLength:
		return "", Invalid(name, "the search text (%s) must be at most %d characters", name, maxSearchLength)
	}
	return q, nil
}

// isPlainText reports whether s is valid UTF-8 on one line with nothing
// invisible or deceptive: no control characters, no format characters
// (bidi overrides, zero-width joiners), no line or paragraph separators,
// and no replacement character (a sign of bytes lost in decoding).
func IsPlainText(s string) bool {
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
