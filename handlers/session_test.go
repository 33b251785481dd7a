package handlers_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/handlers"
)

// sessionCookieOf returns the browser's session cookie.
func (b *browser) sessionCookieOf(t *testing.T) *http.Cookie {
	t.Helper()
	for _, ck := range b.client.Jar.Cookies(mustParseURL(t, b.base)) {
		if ck.Name == "shortlinks_session" {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// openWith fetches path on base with only the given cookie.
func openWith(t *testing.T, base, path string, ck *http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.AddCookie(ck)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Without SESSION_SECRET, every instance on one database (and the same
// instance after a restart) accepts the session cookie another issued.
func TestSessionsWorkAcrossInstancesWithoutSecret(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	first := newTestAppOn(t, dbURL)
	second := newTestAppOn(t, dbURL)
	b := first.signedIn(t)
	ck := b.sessionCookieOf(t)
	if got := openWith(t, second.URL, "/admin/links", ck); got != http.StatusOK {
		t.Errorf("another instance refused the session: %d, want 200", got)
	}
	first.shutdown(t)
	restarted := newTestAppOn(t, dbURL)
	if got := openWith(t, restarted.URL, "/admin/links", ck); got != http.StatusOK {
		t.Errorf("a restarted instance refused the session: %d, want 200", got)
	}
}

// The signing key is not a function of the password: two deployments with
// identical configuration sign the same CSRF cookie differently, and
// neither signs with the key the old code derived from the credentials
// (which let anyone test password guesses offline against one token).
func TestSigningKeyIsNotDerivedFromPassword(t *testing.T) {
	t.Parallel()
	const cookie = "attacker-chosen-csrf-cookie"
	tokenFrom := func(app *testApp) string {
		b := app.browser(t)
		b.client.Jar.SetCookies(mustParseURL(t, app.URL), []*http.Cookie{{Name: "shortlinks_csrf", Value: cookie, Path: "/"}})
		_, doc := b.get("/admin/login")
		return csrf(t, doc)
	}
	one, two := tokenFrom(newTestApp(t)), tokenFrom(newTestApp(t))
	if one == two {
		t.Fatal("two deployments with the same password issued the same token for one cookie: the key follows from the configuration")
	}
	derived := sha256.Sum256([]byte("shortlinks-session\x00" + testAdminUser + "\x00" + testAdminPassword))
	for _, payload := range []string{"csrf:" + cookie, "csrf:anonymous:" + cookie} {
		m := hmac.New(sha256.New, derived[:])
		m.Write([]byte(payload))
		if guess := base64.RawURLEncoding.EncodeToString(m.Sum(nil)); guess == one || guess == two {
			t.Fatal("the CSRF token is an HMAC under a key derived from the password")
		}
	}
}

// Changing the admin password ends every session, though the key stays.
func TestPasswordChangeEndsSessions(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	ck := newTestAppOn(t, dbURL).signedIn(t).sessionCookieOf(t)
	changed := newTestAppOn(t, dbURL, func(c *handlers.Config) { c.AdminPassword = "a new password" })
	if got := openWith(t, changed.URL, "/admin/links", ck); got != http.StatusSeeOther {
		t.Errorf("a session from before the password change: %d, want 303 to the sign-in page", got)
	}
}
