package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/access"
)

// Identity is who a request acts as: a signed-in user, a named API key or
// one of the bootstrap API_TOKEN keys.
type Identity struct {
	Actor   db.Actor
	Role    string
	User    int64    // the user, or the key's owner; 0 when none
	Session *Session // the console session, when signed in
}

// Can reports whether the identity's role grants p (false for nil).
func (id *Identity) Can(p access.Permission) bool { return id != nil && access.Allows(id.Role, p) }

// ctxIdentity holds the request's *Identity once Authorize found one.
const ctxIdentity = "identity"

// IdentityOf returns the request's identity, or nil.
func IdentityOf(c echo.Context) *Identity {
	id, _ := c.Get(ctxIdentity).(*Identity)
	return id
}

// surface is which kind of client a route serves; it decides how a
// request proves who it is and how a refusal looks.
type surface int

const (
	surfaceConsole surface = iota // session cookie; refusals are pages
	surfaceAPI                    // Authorization: Bearer; JSON errors
	surfaceShlink                 // X-Api-Key; Shlink's problem details
	surfaceOther                  // public operations routes
)

func surfaceOf(path string) surface {
	switch {
	case path == "/admin" || strings.HasPrefix(path, "/admin/"):
		return surfaceConsole
	case strings.HasPrefix(path, "/api/v1/"):
		return surfaceAPI
	case strings.HasPrefix(path, "/rest/"):
		return surfaceShlink
	}
	return surfaceOther
}

// Rules is the permission table Authorize enforces (handlers/permissions.go).
type Rules struct {
	// Rule returns the permission a route (method, Echo pattern) needs.
	Rule func(method, path string) (access.Permission, bool)
	// Registered reports whether the router has the route at all (no rule
	// and no route is Echo's 404 or 405, not a missing rule).
	Registered func(method, path string) bool
	// ShlinkUnauthorized is the Shlink API's 401, in its own words.
	ShlinkUnauthorized func(c echo.Context, keyGiven bool) error
}

// Authorize is the one place permissions are enforced. It runs on every
// route but the redirect, after routing (so it knows the route's pattern):
// it finds the route's rule, admits public routes, finds who the request
// acts as for the route's surface, and lets it through only when that role
// grants the rule's permission. A route with no rule is refused: a new
// route cannot ship unguarded (and TestEveryRouteHasAPermissionRule fails
// first). Who acts is put in the request's context for the store's audit
// rows (db.WithActor).
func (h *Base) Authorize(r Rules) echo.MiddlewareFunc {
	digests := make([][32]byte, len(h.Cfg.APITokens))
	for i, t := range h.Cfg.APITokens {
		digests[i] = sha256.Sum256([]byte(t))
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			method, path := c.Request().Method, c.Path()
			perm, ok := r.Rule(method, path)
			if !ok {
				if !r.Registered(method, path) {
					// No route: Echo's 404 or 405, whose page in the
					// console shows the navigation to whoever is signed in.
					if surfaceOf(c.Request().URL.Path) == surfaceConsole {
						if id, err := h.consoleIdentity(c); err == nil && id != nil {
							c.Set(ctxIdentity, id)
						}
					}
					return next(c)
				}
				h.Log.ErrorContext(c.Request().Context(), "route has no permission rule", "method", method, "path", path)
				return Forbidden("a permission rule for this route")
			}
			surf := surfaceOf(path)
			var id *Identity
			var err error
			switch surf {
			case surfaceConsole:
				id, err = h.consoleIdentity(c) // also on public pages: sign-in knows who is signed in
			case surfaceAPI, surfaceShlink:
				if perm != access.Public {
					// An answer for a key's holder, or its refusal: no
					// cache keeps either (as the console's NoStore does).
					c.Response().Header()[echo.HeaderCacheControl] = noStoreValue
					id, err = h.keyIdentity(c, surf, digests)
				}
			}
			if err != nil {
				return err
			}
			if id != nil {
				c.Set(ctxIdentity, id)
				c.SetRequest(c.Request().WithContext(db.WithActor(c.Request().Context(), id.Actor)))
			}
			if perm == access.Public {
				return next(c)
			}
			if id == nil {
				return h.unauthenticated(c, surf, r)
			}
			if !id.Can(perm) {
				return Forbidden(string(perm))
			}
			return next(c)
		}
	}
}

// Forbidden is the 403 naming the permission the request lacked; the error
// handler shows it as JSON to API clients and as a page in the console.
func Forbidden(perm string) *APIError {
	return &APIError{Status: http.StatusForbidden, Code: "forbidden", Permission: perm,
		Message: "You are not allowed to do this: it needs the permission " + perm + ", which your role does not have."}
}

// unauthenticated answers a request that needs someone signed in.
func (h *Base) unauthenticated(c echo.Context, surf surface, r Rules) error {
	if surf != surfaceConsole {
		if ok, wait := h.Limits.Unauth.Allow(c.RealIP()); !ok {
			return NewTooManyRequests(wait, "too many requests without a valid API token")
		}
		if surf == surfaceShlink && r.ShlinkUnauthorized != nil {
			return r.ShlinkUnauthorized(c, strings.TrimSpace(c.Request().Header.Get("X-Api-Key")) != "")
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="shortlinks"`)
		return &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid bearer token is required"}
	}
	login := "/admin/login?next=" + url.QueryEscape(c.Request().URL.RequestURI())
	if c.Request().Header.Get("HX-Request") == "true" {
		// htmx would swap the login page into a panel; make it navigate.
		c.Response().Header().Set("HX-Redirect", login)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, login)
}

// consoleIdentity reads the session cookie: the live session and its user
// as they are now (one query), or nil.
func (h *Base) consoleIdentity(c echo.Context) (*Identity, error) {
	ck, err := c.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	ctx := c.Request().Context()
	hash := access.Hash(ck.Value)
	su, err := h.Store.SessionByToken(ctx, hash)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if time.Since(su.LastSeenAt) > time.Minute {
		if err := h.Store.TouchSession(ctx, su.ID); err != nil {
			h.Log.WarnContext(ctx, "touch session", "err", err)
		}
	}
	return &Identity{Role: su.Role, User: su.UserID, Session: &Session{ID: su.ID, TokenHash: hash, User: su},
		Actor: db.Actor{Kind: db.ActorUser, Name: su.Email, UserID: su.UserID, Client: c.RealIP()}}, nil
}

// keyIdentity reads the API key of an API request (Bearer for /api/v1,
// X-Api-Key for the Shlink API): one of the bootstrap API_TOKEN keys,
// compared in constant time, or a named key looked up by its hash (one
// query, so a revocation holds on every instance at the next request).
// A named key acts with its own role, capped by its owner's current one.
func (h *Base) keyIdentity(c echo.Context, surf surface, tokens [][32]byte) (*Identity, error) {
	key := bearerToken(c.Request())
	if surf == surfaceShlink {
		// Shlink's API v3 reads the key header only.
		key = strings.TrimSpace(c.Request().Header.Get("X-Api-Key"))
	}
	if key == "" {
		return nil, nil
	}
	digest := sha256.Sum256([]byte(key))
	match := 0
	for _, d := range tokens {
		match |= subtle.ConstantTimeCompare(digest[:], d[:])
	}
	id := &Identity{Role: access.RoleAdmin, Actor: db.Actor{Kind: db.ActorToken, Name: "API_TOKEN", Client: c.RealIP()}}
	if match != 1 {
		if !strings.HasPrefix(key, access.KeyPrefix) {
			return nil, nil // not a key format we issue: no query
		}
		ctx := c.Request().Context()
		k, err := h.Store.KeyByHash(ctx, digest[:])
		if errors.Is(err, db.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if k.LastUsedAt == nil || time.Since(*k.LastUsedAt) > time.Minute {
			if err := h.Store.TouchAPIKey(ctx, k.ID); err != nil {
				h.Log.WarnContext(ctx, "touch key", "err", err)
			}
		}
		id = &Identity{Role: k.Role, Actor: db.Actor{Kind: db.ActorKey, Name: "key:" + k.Name, Client: c.RealIP()}}
		if k.UserID != nil {
			id.User, id.Actor.UserID = *k.UserID, *k.UserID
		}
		if k.OwnerRole != nil && !access.AtMost(k.Role, *k.OwnerRole) {
			id.Role = *k.OwnerRole // never above its owner, even after a demotion
		}
	}
	if h.Limits.PerToken != nil {
		if ok, wait := h.Limits.PerToken.Allow(hex.EncodeToString(digest[:8])); !ok {
			return nil, NewTooManyRequests(wait, "this API token is over its rate limit")
		}
	}
	return id, nil
}

// bearerToken returns the request's bearer token, if any.
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// BearerDigest returns the SHA-256 of the request's bearer token, if any.
func BearerDigest(r *http.Request) ([32]byte, bool) {
	token := bearerToken(r)
	if token == "" {
		return [32]byte{}, false
	}
	return sha256.Sum256([]byte(token)), true
}

// BootstrapAdmin creates or updates the ADMIN_USER account with
// ADMIN_PASSWORD (plain, or a bcrypt hash), so today's deployments keep
// signing in; cmd runs it at start-up. Without ADMIN_PASSWORD it does
// nothing. A changed password ends that account's sessions.
func (h *Base) BootstrapAdmin(ctx context.Context) error {
	user, pw := h.Cfg.AdminUser, h.Cfg.AdminPassword
	if pw == "" || user == "" {
		return nil
	}
	hash := func() (string, error) {
		if IsBcrypt(pw) {
			return pw, nil
		}
		return h.Sessions.Hash(pw)
	}
	same := func(stored string) bool {
		if IsBcrypt(pw) {
			return stored == pw
		}
		return h.Sessions.CheckPassword(stored, pw)
	}
	if _, err := h.Store.EnsureAdmin(db.WithActor(ctx, db.SystemActor), user, hash, same); err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	return nil
}
