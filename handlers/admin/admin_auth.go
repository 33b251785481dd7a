package admin

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// Middleware is the chain of every /admin route, outermost first: no
// caching, a body limit, the session, the CSRF check, and a session
// required (sign-in excepted). Bodies are limited before the CSRF check
// parses forms: no admin form comes near 64 kB, and an anonymous client
// must not make us read more. The one exception is a signed-in CSV import
// (adminBodyLimit, after loadSession so it knows who is signed in).
func (h *Handlers) Middleware() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{web.NoStore, h.loadSession, adminBodyLimit, h.csrf, h.requireSession}
}

// adminBodyLimit is 64 kB for every admin request but a signed-in
// POST /admin/businesses/import, which may carry a lead list.
func adminBodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	small, large := middleware.BodyLimit("64K")(next), middleware.BodyLimit("33M")(next)
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodPost && c.Path() == "/admin/businesses/import" && c.Get(web.CtxSignedIn) == true {
			return large(c)
		}
		return small(c)
	}
}

// loadSession reads the session cookie: ctxSession holds a valid,
// unrevoked session, ctxSignedIn says whether there is one.
func (h *Handlers) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		signedIn := false
		if ck, err := c.Cookie(web.SessionCookie); err == nil {
			ctx := c.Request().Context()
			sess, ok, err := h.Sessions.Parse(ctx, ck.Value, time.Now())
			if err != nil {
				return err
			}
			if ok {
				revoked, err := h.Store.SessionRevoked(ctx, sess.ID)
				if err != nil {
					return err
				}
				if signedIn = !revoked; signedIn {
					c.Set(web.CtxSession, sess)
				}
			}
		}
		c.Set(web.CtxSignedIn, signedIn)
		return next(c)
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
		if s, ok := c.Get(web.CtxSession).(web.Session); ok {
			sess = &s
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

// requireSession sends visitors without a valid session to the sign-in page.
func (h *Handlers) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		signedIn, _ := c.Get(web.CtxSignedIn).(bool)
		path := c.Request().URL.Path
		if signedIn || path == "/admin/login" {
			return next(c)
		}
		login := "/admin/login?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		if c.Request().Header.Get("HX-Request") == "true" {
			// htmx would swap the login page into a panel; make it navigate.
			c.Response().Header().Set("HX-Redirect", login)
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, login)
	}
}

// Home is GET / and /admin: the console starts at the campaigns.
func (h *Handlers) Home(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/admin/campaigns")
}

// LoginPage is GET /admin/login.
func (h *Handlers) LoginPage(c echo.Context) error {
	if signedIn, _ := c.Get(web.CtxSignedIn).(bool); signedIn {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return h.renderLogin(c, http.StatusOK, "", "")
}

func (h *Handlers) renderLogin(c echo.Context, status int, user, msg string) error {
	if !h.Sessions.Enabled() {
		msg = "Sign-in is disabled: set ADMIN_PASSWORD to enable the admin console."
	}
	form := views.LoginForm{User: user, Next: safeNext(c.FormValue("next")), Error: msg, CSRF: web.CSRFToken(c)}
	return web.Render(c, status, views.Login(h.Chrome(c, "Sign in", ""), form))
}

// Login is POST /admin/login. Failed attempts are rate-limited per client;
// a success does not use up the allowance.
func (h *Handlers) Login(c echo.Context) error {
	ip := c.RealIP()
	// From the body only: a password in the query string would be logged.
	user, password := c.Request().PostFormValue("username"), c.Request().PostFormValue("password")
	// The attempt takes a token before the check, so parallel guesses
	// cannot all pass a limit that only failures would have consumed; a
	// success gives it back, so only failures count.
	ok, wait, refund := h.Limits.Login.Reserve(ip)
	if !ok {
		return web.NewTooManyRequests(wait, "Too many failed sign-ins. Wait a minute and try again.")
	}
	if !h.Sessions.CheckCredentials(user, password) {
		h.Log.InfoContext(c.Request().Context(), "failed sign-in", "ip", ip, "user", truncate(user, 64))
		return h.renderLogin(c, http.StatusUnauthorized, user, "Wrong username or password.")
	}
	refund()
	cookie, err := h.Sessions.Issue(c.Request().Context(), time.Now())
	if err != nil {
		return err
	}
	c.SetCookie(cookie)
	// A new anonymous CSRF cookie too: nothing minted before sign-in,
	// or planted by someone else, outlives it.
	c.SetCookie(h.Sessions.NewCSRFCookie())
	h.Log.InfoContext(c.Request().Context(), "signed in", "ip", ip, "user", user)
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

// Logout is POST /admin/logout.
func (h *Handlers) Logout(c echo.Context) error {
	// The cookie is deleted in this browser and revoked for every instance,
	// so a copy of it (another tab, a stolen one) stops working too.
	if sess, ok := c.Get(web.CtxSession).(web.Session); ok {
		if err := h.Store.RevokeSession(c.Request().Context(), sess.ID, sess.Expires); err != nil {
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
