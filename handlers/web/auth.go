package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// RequireToken admits API calls that carry one of the configured bearer
// tokens. Comparison is constant-time over fixed-length digests, so neither
// the token nor its length leaks through timing. Calls without a valid
// token are rate-limited per client, so the API cannot be used to guess
// tokens; valid tokens are limited only when TokenPerMinute opts in.
func (h *Base) RequireToken(next echo.HandlerFunc) echo.HandlerFunc {
	digests := make([][32]byte, len(h.Cfg.APITokens))
	for i, t := range h.Cfg.APITokens {
		digests[i] = sha256.Sum256([]byte(t))
	}
	return func(c echo.Context) error {
		c.Response().Header()[echo.HeaderCacheControl] = noStoreValue
		if digest, ok := BearerDigest(c.Request()); ok {
			match := 0
			for _, d := range digests {
				match |= subtle.ConstantTimeCompare(digest[:], d[:])
			}
			if match == 1 {
				return h.limitToken(c, digest, next)
			}
		}
		if ok, wait := h.Limits.Unauth.Allow(c.RealIP()); !ok {
			return NewTooManyRequests(wait, "too many requests without a valid API token")
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="shortlinks"`)
		return &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid bearer token is required"}
	}
}

// bearerDigest returns the SHA-256 of the request's bearer token, if any.
func BearerDigest(r *http.Request) ([32]byte, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return [32]byte{}, false
	}
	return sha256.Sum256([]byte(token)), true
}

// limitToken applies the opt-in per-token limit, keyed by the token's digest
// so the token itself is never kept.
func (h *Base) limitToken(c echo.Context, digest [32]byte, next echo.HandlerFunc) error {
	if h.Limits.PerToken != nil {
		if ok, wait := h.Limits.PerToken.Allow(hex.EncodeToString(digest[:8])); !ok {
			return NewTooManyRequests(wait, "this API token is over its rate limit")
		}
	}
	return next(c)
}
