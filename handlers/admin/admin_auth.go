package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/access"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// Middleware is the chain of every /admin route, outermost first: no
// caching, a body limit and the CSRF check. Bodies are limited before the
// CSRF check parses forms: no admin form comes near 64 kB, and an
// anonymous client must not make us read more. The one exception is a CSV
// import by someone allowed to import (adminBodyLimit). Who is signed in,
// and whether they may open the page, is web.Authorize's to say (it runs
// before, with the route table's rules: handlers/permissions.go).
func (h *Handlers) Middleware() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{web.NoStore, adminBodyLimit, h.csrf}
}

// adminBodyLimit is 64 kB for every admin request but a
// POST /admin/businesses/import by someone who may edit businesses, which
// may carry a lead list.
func adminBodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	small, large := middleware.BodyLimit("64K")(next), middleware.BodyLimit("33M")(next)
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodPost && c.Path() == "/admin/businesses/import" && web.IdentityOf(c).Can(access.BusinessesEdit) {
			return large(c)
		}
		return small(c)
	}
}

// csrf exposes the form token to the pages and refuses state-changing
// requests without it. Signed in, the token is bound to the session (so a
// token minted before sign-in, or for a CSRF cookie planted from a sibling
// domain, is worthless); before, to an anonymous CSRF cookie it makes sure
// the browser holds. It is read from the X-CSRF-Token header or the form
// body, never the query string, which ends up in logs and Referer headers.
func (h *Handlers) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var sess *web.Session
		if id := web.IdentityOf(c); id != nil {
			sess = id.Session
		}
		var anon string
		if sess == nil {
			cookie, err := c.Cookie(web.CSRFCookie)
			if err != nil || cookie.Value == "" {
				cookie = h.Sessions.NewCSRFCookie()
				c.SetCookie(cookie)
			}
			anon = cookie.Value
		}
		token, err := h.Sessions.CSRFToken(c.Request().Context(), sess, anon)
		if err != nil {
			return err
		}
		c.Set(web.CtxCSRF, token)
		if !safeMethod(c.Request().Method) {
			sent := c.Request().Header.Get("X-CSRF-Token")
			if sent == "" {
				sent = c.Request().PostFormValue("csrf_token")
			}
			if subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
				return &web.APIError{Status: http.StatusForbidden, Code: "csrf", Message: "The form expired or did not come from this site. Reload the page and try again."}
			}
		}
		return next(c)
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func (h *Handlers) Home(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/admin/campaigns")
}

// LoginPage is GET /admin/login.
func (h *Handlers) LoginPage(c echo.Context) error {
	if web.IdentityOf(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return h.renderLogin(c, http.StatusOK, "", "")
}

func (h *Handlers) renderLogin(c echo.Context, status int, user, msg string) error {
	form := views.LoginForm{User: user, Next: safeNext(c.FormValue("next")), Error: msg, CSRF: web.CSRFToken(c)}
	return web.Render(c, status, views.Login(h.Chrome(c, "Sign in", ""), form))
}

// Login is POST /admin/login. Failures are throttled per client and per
// account, never by locking the account: a browser that signed in to the
// account before (its device cookie) is not held back by the account's
// limit, so someone guessing from elsewhere cannot keep its owner out.
// Successes give their tokens back, so only failures count.
func (h *Handlers) Login(c echo.Context) error {
	ctx, ip := c.Request().Context(), c.RealIP()
	// From the body only: a password in the query string would be logged.
	user := strings.TrimSpace(c.Request().PostFormValue("username"))
	password := c.Request().PostFormValue("password")
	account := strings.ToLower(truncate(user, 254))
	// Each attempt takes its tokens before the check, so parallel guesses
	// cannot all pass a limit that only failures would have consumed.
	ok, wait, refundClient := h.Limits.Login.Reserve(ip)
	if !ok {
		return web.NewTooManyRequests(wait, "Too many failed sign-ins. Wait a minute and try again.")
	}
	refundAccount := func() {}
	if !h.knownDevice(c, account) {
		var okAccount bool
		okAccount, wait, refundAccount = h.Limits.Account.Reserve("account:" + account)
		if !okAccount {
			refundClient()
			return web.NewTooManyRequests(wait, "Too many failed sign-ins for this account. Wait a few minutes, or sign in from a browser you used before.")
		}
	}
	u, err := h.Store.UserByEmail(ctx, user)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		refundClient()
		refundAccount()
		return err
	}
	hash := ""
	if err == nil && u.PasswordHash != nil && !u.Disabled {
		hash = *u.PasswordHash
	}
	if !h.Sessions.CheckPassword(hash, password) {
		h.Log.InfoContext(ctx, "failed sign-in", "ip", ip, "user", truncate(user, 64))
		actx := db.WithActor(ctx, db.Actor{Kind: db.ActorAnonymous, Name: truncate(user, 254), Client: ip})
		if err := h.Store.Audit(actx, db.AuditSignInFailed, "user", truncate(user, 254), nil); err != nil {
			return err
		}
		return h.renderLogin(c, http.StatusUnauthorized, user, "Wrong username or password.")
	}
	refundClient()
	refundAccount()
	token, cookie := h.Sessions.Issue()
	_, err = h.Store.CreateSession(ctx, db.NewSession{UserID: u.ID, TokenHash: access.Hash(token),
		ExpiresAt: time.Now().Add(web.SessionTTL), Client: ip, UserAgent: c.Request().UserAgent()})
	if err != nil {
		return err
	}
	c.SetCookie(cookie)
	// A new anonymous CSRF cookie too: nothing minted before sign-in,
	// or planted by someone else, outlives it.
	c.SetCookie(h.Sessions.NewCSRFCookie())
	if dev, err := h.deviceCookie(ctx, account); err == nil {
		c.SetCookie(dev)
	}
	h.Log.InfoContext(ctx, "signed in", "ip", ip, "user", u.Email)
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

// deviceCookie marks this browser as one that signed in to account.
func (h *Handlers) deviceCookie(ctx context.Context, account string) (*http.Cookie, error) {
	sig, err := h.Sessions.Sign(ctx, "device:"+account)
	if err != nil {
		return nil, err
	}
	ck := h.Sessions.Cookie(web.DeviceCookie, sig, int((365 * 24 * time.Hour).Seconds()))
	ck.Path = "/admin/login"
	return ck, nil
}

// knownDevice reports whether the request carries account's device cookie.
func (h *Handlers) knownDevice(c echo.Context, account string) bool {
	ck, err := c.Cookie(web.DeviceCookie)
	if err != nil {
		return false
	}
	want, err := h.Sessions.Sign(c.Request().Context(), "device:"+account)
	return err == nil && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(want)) == 1
}

// Logout is POST /admin/logout.
func (h *Handlers) Logout(c echo.Context) error {
	// The cookie is deleted in this browser and the session ended for
	// every instance, so a copy of it (another tab, a stolen one) stops
	// working too.
	// EndSessions as the Account page's "end" does: one audit row.
	if id := web.IdentityOf(c); id != nil && id.Session != nil {
		if _, err := h.Store.EndSessions(c.Request().Context(), id.User, id.Session.ID, false); err != nil {
			return err
		}
	}
	c.SetCookie(h.Sessions.Expired(web.SessionCookie))
	c.SetCookie(h.Sessions.NewCSRFCookie())
	return c.Redirect(http.StatusSeeOther, "/admin/login")
}

// truncate shortens s to at most n bytes for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// safeNext keeps post-login redirects inside the admin console, so the login
// form cannot be used as an open redirect.
func safeNext(next string) string {
	p, _, _ := strings.Cut(next, "?")
	if strings.HasPrefix(next, "/admin/") && !strings.HasPrefix(next, "/admin/login") &&
		!strings.ContainsAny(next, "\\\r\n%") && path.Clean(p) == p {
		return next
	}
	return "/admin/campaigns"
}
