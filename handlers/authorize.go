package handlers

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
	"golang.org/x/crypto/bcrypt"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/access"
)

// identity is who a request acts as: a signed-in user, a named API key
// or one of the bootstrap API_TOKEN keys.
type identity struct {
	actor db.Actor
	role  string
	user  int64    // the user, or the key's owner; 0 when none
	key   int64    // the named key; 0 when none
	sess  *session // the console session, when signed in
}

// can reports whether the identity's role grants p.
func (id *identity) can(p access.Permission) bool { return id != nil && access.Allows(id.role, p) }

// ctxIdentity holds the request's *identity once authorize found one.
const ctxIdentity = "identity"

// identityOf returns the request's identity, or nil.
func identityOf(c echo.Context) *identity {
	id, _ := c.Get(ctxIdentity).(*identity)
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

// authorize is the one place permissions are enforced. It runs on every
// route but the redirect, after routing (so it knows the route's pattern):
// it finds the route's rule in routeRules (permissions.go), admits public
// routes, finds who the request acts as for the route's surface, and lets
// it through only when that role grants the rule's permission. A route
// with no rule is refused: a new route cannot ship unguarded (and
// TestEveryRouteHasAPermissionRule fails first). Who acts is put in the
// request's context for the store's audit rows (db.WithActor).
func (h *Handlers) authorize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		method, path := c.Request().Method, c.Path()
		if method == http.MethodHead {
			method = http.MethodGet
		}
		perm, ok := routeRules[route{method, path}]
		if !ok {
			if !h.registered[route{method, path}] {
				// No route: Echo's 404 or 405, whose page in the console
				// shows the navigation to whoever is signed in.
				if surfaceOf(c.Request().URL.Path) == surfaceConsole {
					if id, err := h.consoleIdentity(c); err == nil && id != nil {
						c.Set(ctxIdentity, id)
					}
				}
				return next(c)
			}
			h.log.ErrorContext(c.Request().Context(), "route has no permission rule", "method", method, "path", path)
			return forbidden("a permission rule for this route")
		}
		surf := surfaceOf(path)
		var id *identity
		var err error
		switch surf {
		case surfaceConsole:
			id, err = h.consoleIdentity(c) // also on public pages: sign-in knows who is signed in
		case surfaceAPI, surfaceShlink:
			if perm != access.Public {
				id, err = h.keyIdentity(c, surf)
			}
		}
		if err != nil {
			return err
		}
		if id != nil {
			c.Set(ctxIdentity, id)
			c.SetRequest(c.Request().WithContext(db.WithActor(c.Request().Context(), id.actor)))
		}
		if perm == access.Public {
			return next(c)
		}
		if id == nil {
			return h.unauthenticated(c, surf)
		}
		if !id.can(perm) {
			return forbidden(string(perm))
		}
		return next(c)
	}
}

// forbidden is the 403 naming the permission the request lacked; the
// error handler shows it as JSON to API clients and as a page in the
// console.
func forbidden(perm string) *APIError {
	return &APIError{Status: http.StatusForbidden, Code: "forbidden", Permission: perm,
		Message: "You are not allowed to do this: it needs the permission " + perm + ", which your role does not have."}
}

// unauthenticated answers a request that needs someone signed in.
func (h *Handlers) unauthenticated(c echo.Context, surf surface) error {
	if surf != surfaceConsole {
		if ok, wait := h.limits.unauth.allow(c.RealIP()); !ok {
			return newTooManyRequests(wait, "too many requests without a valid API token")
		}
		return errUnauthorized(c, surf)
	}
	login := "/admin/login?next=" + url.QueryEscape(c.Request().URL.RequestURI())
	if c.Request().Header.Get("HX-Request") == "true" {
		// htmx would swap the login page into a panel; make it navigate.
		c.Response().Header().Set("HX-Redirect", login)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, login)
}

// errUnauthorized is the 401 of the API surfaces (the Shlink one in its
// own words).
func errUnauthorized(c echo.Context, surf surface) error {
	if surf == surfaceShlink {
		if strings.TrimSpace(c.Request().Header.Get("X-Api-Key")) == "" {
			return &shlinkProblem{Type: shlinkMissingAuth, Title: "Invalid authorization", Status: http.StatusUnauthorized,
				Detail: `Expected one of the following authentication headers, ["X-Api-Key"], but none were provided`}
		}
		return &shlinkProblem{Type: shlinkInvalidAPIKey, Title: "Invalid API key", Status: http.StatusUnauthorized,
			Detail: "Provided API key does not exist or is invalid."}
	}
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="shortlinks"`)
	return &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid bearer token is required"}
}

// consoleIdentity reads the session cookie: the live session and its user
// as they are now (one query), or nil.
func (h *Handlers) consoleIdentity(c echo.Context) (*identity, error) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	ctx := c.Request().Context()
	hash := access.Hash(ck.Value)
	su, err := h.store.SessionByToken(ctx, hash)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if time.Since(su.LastSeenAt) > time.Minute {
		if err := h.store.TouchSession(ctx, su.ID); err != nil {
			h.log.WarnContext(ctx, "touch session", "err", err)
		}
	}
	sess := &session{id: su.ID, tokenHash: hash, user: su}
	return &identity{role: su.Role, user: su.UserID, sess: sess,
		actor: db.Actor{Kind: db.ActorUser, Name: su.Email, UserID: su.UserID, Client: c.RealIP()}}, nil
}

// keyIdentity reads the API key of an API request (Bearer for /api/v1,
// X-Api-Key for the Shlink API): one of the bootstrap API_TOKEN keys,
// compared in constant time, or a named key looked up by its hash (one
// query, so a revocation holds on every instance at the next request).
// A named key acts with its own role, capped by its owner's current one.
func (h *Handlers) keyIdentity(c echo.Context, surf surface) (*identity, error) {
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
	for _, d := range h.tokenDigests {
		match |= subtle.ConstantTimeCompare(digest[:], d[:])
	}
	id := &identity{role: access.RoleAdmin, actor: db.Actor{Kind: db.ActorToken, Name: "API_TOKEN", Client: c.RealIP()}}
	if match != 1 {
		if !strings.HasPrefix(key, access.KeyPrefix) {
			return nil, nil // not a key format we issue: no query
		}
		ctx := c.Request().Context()
		k, err := h.store.KeyByHash(ctx, digest[:])
		if errors.Is(err, db.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if k.LastUsedAt == nil || time.Since(*k.LastUsedAt) > time.Minute {
			if err := h.store.TouchAPIKey(ctx, k.ID); err != nil {
				h.log.WarnContext(ctx, "touch key", "err", err)
			}
		}
		id = &identity{role: k.Role, key: k.ID,
			actor: db.Actor{Kind: db.ActorKey, Name: "key:" + k.Name, Client: c.RealIP()}}
		if k.UserID != nil {
			id.user, id.actor.UserID = *k.UserID, *k.UserID
		}
		if k.OwnerRole != nil && !access.AtMost(k.Role, *k.OwnerRole) {
			id.role = *k.OwnerRole // never above its owner, even after a demotion
		}
	}
	if h.limits.perToken != nil {
		if ok, wait := h.limits.perToken.allow(hex.EncodeToString(digest[:8])); !ok {
			return nil, newTooManyRequests(wait, "this API token is over its rate limit")
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

// BootstrapAdmin creates or updates the ADMIN_USER account with
// ADMIN_PASSWORD (plain, or a bcrypt hash), so today's deployments keep
// signing in; cmd runs it at start-up. Without ADMIN_PASSWORD it does
// nothing. A changed password ends that account's sessions.
func (h *Handlers) BootstrapAdmin(ctx context.Context) error {
	user, pw := h.cfg.AdminUser, h.cfg.AdminPassword
	if pw == "" || user == "" {
		return nil
	}
	hash := pw
	if !isBcrypt(pw) {
		b, err := bcryptHash(pw)
		if err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
		hash = b
	}
	same := func(stored string) bool {
		if isBcrypt(pw) {
			return stored == pw
		}
		return h.sessions.checkPassword(stored, pw)
	}
	_, err := h.store.EnsureAdmin(db.WithActor(ctx, db.SystemActor), user, hash, same)
	return err
}

// bearerDigest returns the SHA-256 of the request's bearer token, if any.
func bearerDigest(r *http.Request) ([32]byte, bool) {
	token := bearerToken(r)
	if token == "" {
		return [32]byte{}, false
	}
	return sha256.Sum256([]byte(token)), true
}

// bcryptHash hashes a password for users.password_hash.
func bcryptHash(password string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(b), err
}
