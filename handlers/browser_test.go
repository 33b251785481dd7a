package handlers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers"
)

func TestAdminPagesRequireSignIn(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.browser(t)
	for _, path := range []string{"/admin", "/admin/campaigns", "/admin/links", "/admin/health"} {
		resp, _ := b.get(path)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/login?next=") {
			t.Errorf("%s without session: %d Location %q, want 303 to the sign-in page", path, resp.StatusCode, loc)
		}
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.browser(t)
	resp, doc := b.login(testAdminUser, "wrong password")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(doc.Find(".error").Text(), "Wrong username or password") {
		t.Fatalf("wrong password: %d %q", resp.StatusCode, doc.Find(".error").Text())
	}
	if resp, _ := b.get("/admin/campaigns"); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("a failed sign-in opened the console")
	}

	resp, _ = b.login(testAdminUser, testAdminPassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/campaigns" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "shortlinks_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v, want HttpOnly and SameSite=Lax", session)
	}

	// b.token is the signed-in session's token (see login).
	resp, _ = b.post("/admin/logout", url.Values{"csrf_token": {b.token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/admin/links"); resp.StatusCode != http.StatusSeeOther {
		t.Error("console still open after sign-out")
	}
}

func TestPostWithoutCSRFTokenIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.browser(t)
	b.get("/admin/login") // gets the CSRF cookie, but the form token is not sent
	resp, _ := b.post("/admin/login", url.Values{"username": {testAdminUser}, "password": {testAdminPassword}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without CSRF token: %d, want 403", resp.StatusCode)
	}
	resp, _ = b.post("/admin/login", url.Values{"username": {testAdminUser}, "password": {testAdminPassword}, "csrf_token": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with a forged token: %d, want 403", resp.StatusCode)
	}
	signed := app.signedIn(t)
	resp, _ = signed.post("/admin/logout", url.Values{})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without CSRF token: %d, want 403", resp.StatusCode)
	}
}

func TestFailedSignInsAreRateLimited(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.browser(t)
	var last *http.Response
	for range 8 {
		last, _ = b.login(testAdminUser, "guess")
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("8th failed sign-in: %d Retry-After %q, want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
	}
	// Even the right password waits: the allowance is per client, not per guess.
	if resp, _ := b.login(testAdminUser, testAdminPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sign-in while limited: %d, want 429", resp.StatusCode)
	}
}

func TestSignInAcceptsBcryptHash(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("hunter2 but longer"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	app := newTestApp(t, func(c *handlers.Config) { c.AdminPassword = string(hash) })
	if resp, _ := app.browser(t).login(testAdminUser, string(hash)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the hash itself as password: %d, want 401", resp.StatusCode)
	}
	if resp, _ := app.browser(t).login(testAdminUser, "hunter2 but longer"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the password of the hash: %d, want 303", resp.StatusCode)
	}
}

// With sign-in disabled (no ADMIN_PASSWORD) the signing key would be
// derived from public values; no cookie may open the console then.
func TestNoSessionWhenSignInIsDisabled(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) { c.AdminPassword = "" })
	key := sha256.Sum256([]byte("shortlinks-session\x00admin\x00"))
	payload := base64.RawURLEncoding.EncodeToString([]byte("admin|" + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte("session:" + payload))
	forged := payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	req, _ := http.NewRequest("GET", app.URL+"/admin/links", nil)
	req.AddCookie(&http.Cookie{Name: "shortlinks_session", Value: forged})
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("forged session with sign-in disabled: %d, want 303 to the sign-in page", resp.StatusCode)
	}
	if resp, _ := app.browser(t).login("admin", ""); resp.StatusCode == http.StatusSeeOther {
		t.Error("an empty password signed in")
	}
}

// Parallel guesses cannot slip past the limit: each attempt takes its token
// before the password is checked.
func TestParallelSignInGuessesAreLimited(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.browser(t)
	_, doc := b.get("/admin/login")
	token := csrf(t, doc)
	var wg sync.WaitGroup
	var checked atomic.Int64
	for range 40 {
		wg.Go(func() {
			resp, err := b.client.PostForm(app.URL+"/admin/login", url.Values{"username": {"admin"}, "password": {"guess"}, "csrf_token": {token}})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				checked.Add(1)
			}
		})
	}
	wg.Wait()
	if n := checked.Load(); n > 5 {
		t.Errorf("%d of 40 parallel guesses were checked, want at most the burst of 5", n)
	}
}

// Signing out ends the session everywhere: a copy of the cookie taken
// before (another tab, a stolen one) is refused afterwards.
func TestLogoutRevokesTheSession(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.signedIn(t)
	var copied *http.Cookie
	for _, ck := range b.client.Jar.Cookies(mustParseURL(t, app.URL)) {
		if ck.Name == "shortlinks_session" {
			copied = ck
		}
	}
	if copied == nil {
		t.Fatal("no session cookie after sign-in")
	}
	if resp, _ := b.post("/admin/logout", url.Values{"csrf_token": {b.token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", app.URL+"/admin/links", nil)
	req.AddCookie(copied)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the signed-out cookie replayed: %d, want 303 to the sign-in page", resp.StatusCode)
	}
	// The trail says the session ended, and who ended it.
	page, err := app.Store.ListAudit(context.Background(), db.AuditFilter{Action: db.AuditSessionEnded})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Actor != testAdminUser {
		t.Errorf("session.ended audit rows after signing out: %+v %v", page.Entries, err)
	}
	// A new sign-in works again.
	app.signedIn(t)
}

func mustParseURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
