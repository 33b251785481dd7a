package handlers_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/shortlinks/shortlinks/handlers"
)

// browser is an HTTP client with a cookie jar that does not follow
// redirects, like a person's browser seen one response at a time.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
	token  string // CSRF token from the last sign-in form
}

func (a *testApp) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: a.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get fetches path and parses the HTML.
func (b *browser) get(path string) (*http.Response, *goquery.Document) {
	b.t.Helper()
	resp, err := b.client.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, doc
}

// post submits form values to path and parses the HTML answer.
func (b *browser) post(path string, form url.Values) (*http.Response, *goquery.Document) {
	b.t.Helper()
	resp, err := b.client.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	return resp, doc
}

// csrf reads the CSRF token from a page's forms.
func csrf(t *testing.T, doc *goquery.Document) string {
	t.Helper()
	token, ok := doc.Find(`input[name="csrf_token"]`).First().Attr("value")
	if !ok || token == "" {
		t.Fatal("page has no CSRF token")
	}
	return token
}

// login signs in through the form. After a sign-in, b.token is the new
// session's CSRF token, read from a page as a person's browser would.
func (b *browser) login(user, password string) (*http.Response, *goquery.Document) {
	b.t.Helper()
	_, doc := b.get("/admin/login")
	b.token = csrf(b.t, doc)
	resp, doc := b.post("/admin/login", url.Values{"username": {user}, "password": {password}, "csrf_token": {b.token}})
	if resp.StatusCode == http.StatusSeeOther {
		_, page := b.get("/admin/campaigns")
		b.token = csrf(b.t, page)
	}
	return resp, doc
}

// signedIn returns a browser with a valid admin session.
func (a *testApp) signedIn(t *testing.T) *browser {
	b := a.browser(t)
	if resp, _ := b.login(testAdminUser, testAdminPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: status %d", resp.StatusCode)
	}
	return b
}

func TestAdminPagesRequireSignIn(t *testing.T) {
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
