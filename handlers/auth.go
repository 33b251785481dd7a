package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// requireToken admits API calls that carry one of the configured bearer
// tokens. Comparison is constant-time over fixed-length digests, so neither
// the token nor its length leaks through timing.
func (h *Handlers) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	digests := make([][32]byte, len(h.cfg.APITokens))
	for i, t := range h.cfg.APITokens {
		digests[i] = sha256.Sum256([]byte(t))
	}
	return func(c echo.Context) error {
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, token, ok := strings.Cut(auth, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && token != "" {
			got := sha256.Sum256([]byte(strings.TrimSpace(token)))
			match := 0
			for _, d := range digests {
				match |= subtle.ConstantTimeCompare(got[:], d[:])
			}
			if match == 1 {
				return next(c)
			}
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="shortlinks"`)
		return &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid bearer token is required"}
	}
}
