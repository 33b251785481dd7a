package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// postAs sends a form with exactly the given cookies, as a forged
// cross-site request or a replay would.
func postAs(t *testing.T, target string, form url.Values, cookies ...*http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// anonymousToken is what anyone gets from the sign-in page: a CSRF cookie
// and the token minted for it.
func anonymousToken(t *testing.T, app *testApp) (*http.Cookie, string) {
	t.Helper()
	b := app.browser(t)
	_, doc := b.get("/admin/login")
	for _, ck := range b.client.Jar.Cookies(mustParseURL(t, app.URL)) {
		if ck.Name == "shortlinks_csrf" {
			return ck, csrf(t, doc)
		}
	}
	t.Fatal("the sign-in page set no CSRF cookie")
	return nil, ""
}

// A token minted before sign-in is worthless after it.
func TestCSRFTokenFromBeforeSignInIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	l := app.addLink(t, "https://bakery.example.com/", "site_preview")
	b := app.browser(t)
	_, doc := b.get("/admin/login")
	before := csrf(t, doc)
	if resp, _ := b.post("/admin/login", url.Values{"username": {testAdminUser}, "password": {testAdminPassword}, "csrf_token": {before}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/admin/links/"+l.Slug+"/deactivate", url.Values{"csrf_token": {before}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the pre-sign-in token after sign-in: %d, want 403", resp.StatusCode)
	}
	if !app.isActive(t, l.Slug) {
		t.Error("the pre-sign-in token deactivated a link")
	}
	_, page := b.get("/admin/links")
	if csrf(t, page) == before {
		t.Error("the token was not rotated at sign-in")
	}
}

// A CSRF cookie planted from a sibling subdomain, with the token the
// attacker got for it from our own sign-in page, opens nothing once the
// victim is signed in.
func TestPlantedCSRFCookieIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	l := app.addLink(t, "https://florist.example.com/", "site_preview")
	planted, token := anonymousToken(t, app)
	victim := app.signedIn(t).sessionCookieOf(t)
	if got := postAs(t, app.URL+"/admin/links/"+l.Slug+"/deactivate", url.Values{"csrf_token": {token}}, victim, planted); got != http.StatusForbidden {
		t.Errorf("planted cookie and its token with the victim's session: %d, want 403", got)
	}
	if !app.isActive(t, l.Slug) {
		t.Error("the planted cookie deactivated the victim's link")
	}
}

// The token counts only in the form body or the X-CSRF-Token header: a
// URL carrying it (logged, leaked through Referer) does not authorize a POST.
func TestCSRFTokenInQueryStringIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	l := app.addLink(t, "https://vet.example.com/", "site_preview")
	b := app.signedIn(t)
	path := "/admin/links/" + l.Slug + "/deactivate?csrf_token=" + url.QueryEscape(b.token)
	if resp, _ := b.post(path, url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("token in the query string: %d, want 403", resp.StatusCode)
	}
	if !app.isActive(t, l.Slug) {
		t.Fatal("a token in the query string deactivated the link")
	}
	req, _ := http.NewRequest("POST", app.URL+"/admin/links/"+l.Slug+"/deactivate", nil)
	req.Header.Set("X-CSRF-Token", b.token)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || app.isActive(t, l.Slug) {
		t.Errorf("token in the header: %d, active=%t; want 303 and deactivated", resp.StatusCode, app.isActive(t, l.Slug))
	}
}
