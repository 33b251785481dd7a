package handlers_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/handlers/access"
)

// newKey stores an API key of role, owned by nobody, and returns it.
func (a *testApp) newKey(t *testing.T, name, role string) string {
	t.Helper()
	key := access.NewSecret(access.KeyPrefix)
	_, err := a.Store.CreateAPIKey(db.WithActor(context.Background(), db.CLIActor),
		db.NewAPIKey{Name: name, Role: role, Hash: access.Hash(key), Hint: access.Hint(key)})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// withKey is an API request made with key instead of the test token.
func (a *testApp) withKey(method, path, key string, body any) *http.Request {
	req := a.apiRequest(method, path, body)
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

// Each role gets exactly its permissions through the API; a refusal is a
// 403 naming the permission, and changes nothing.
func TestAPIKeysActWithTheirRole(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	keys := map[string]string{}
	for _, r := range access.Roles {
		keys[r] = app.newKey(t, r+"-key", r)
	}
	create := map[string]string{"destination_url": "https://roles.example.com/", "link_type": "campaign"}
	for _, c := range []struct {
		role, method, path string
		body               any
		want               int
		perm               string
	}{
		{"viewer", "GET", "/api/v1/links", nil, 200, ""},
		{"viewer", "POST", "/api/v1/links", create, 403, "links.create"},
		{"marketer", "POST", "/api/v1/links", create, 403, "links.create"},
		{"viewer", "POST", "/api/v1/businesses", map[string]string{"name": "X", "site_url": "https://x.example.com/"}, 403, "businesses.edit"},
		{"marketer", "GET", "/api/v1/audit", nil, 403, "audit.read"},
		{"admin", "POST", "/api/v1/links", create, 201, ""},
		{"marketer", "POST", "/api/v1/links/nosuch/deactivate", nil, 403, "links.manage"},
		{"admin", "GET", "/api/v1/audit", nil, 200, ""},
	} {
		status, body := doJSON(t, app.withKey(c.method, c.path, keys[c.role], c.body))
		if status != c.want || errorOf(body, "permission") != c.perm {
			t.Errorf("%s %s %s: %d %v, want %d naming %q", c.role, c.method, c.path, status, body, c.want, c.perm)
		}
	}
	if n := app.countLinks(t); n != 1 {
		t.Errorf("%d links, want the admin's one: refused requests must change nothing", n)
	}
	// The Shlink API takes the same keys in X-Api-Key.
	req, _ := http.NewRequest("DELETE", app.URL+"/rest/v3/short-urls/abc", nil)
	req.Header.Set("X-Api-Key", keys["viewer"])
	if status, _ := doJSON(t, req); status != http.StatusForbidden {
		t.Errorf("a viewer key deleting through the Shlink API: %d, want 403", status)
	}
	// The admin's link says who made it, and the trail has the row.
	page, err := app.Store.ListAudit(context.Background(), db.AuditFilter{Action: db.AuditLinkCreated})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Actor != "key:admin-key" || page.Entries[0].ClientAddr != "127.0.0.1" {
		t.Errorf("link.created audit rows: %+v %v", page.Entries, err)
	}
}

// A key revoked, or a user disabled, on one instance is refused by another
// on the same database at the next request (well within a second).
func TestRevocationAndDisablingHoldOnEveryInstance(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	one, two := newTestAppOn(t, dbURL), newTestAppOn(t, dbURL)
	key := one.newKey(t, "ci", "viewer")
	if status, _ := doJSON(t, two.withKey("GET", "/api/v1/links", key, nil)); status != 200 {
		t.Fatalf("the key on the other instance: %d", status)
	}
	if _, err := one.Store.RevokeAPIKeyByName(context.Background(), "ci"); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	if status, _ := doJSON(t, two.withKey("GET", "/api/v1/links", key, nil)); status != http.StatusUnauthorized || time.Since(revoked) > time.Second {
		t.Errorf("a revoked key on the other instance: %d after %s, want 401 within 1 s", status, time.Since(revoked))
	}

	admin := one.signedIn(t)
	link := admin.invite(t, "sam@example.com", "marketer")
	sam := two.browser(t)
	sam.setPassword(t, link, "plum-harbor-cactus-41")
	if resp, _ := sam.login("sam@example.com", "plum-harbor-cactus-41"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sam's sign-in: %d", resp.StatusCode)
	}
	if resp, _ := sam.get("/admin/templates"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sam's templates page: %d", resp.StatusCode)
	}
	u, err := one.Store.UserByEmail(context.Background(), "sam@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// The role change is made on instance one; sam is on instance two.
	resp, _ := admin.post("/admin/users/"+itoa(u.ID)+"/role", url.Values{"role": {"viewer"}, "csrf_token": {admin.token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("role change: %d", resp.StatusCode)
	}
	if resp, doc := sam.post("/admin/templates/friendly", url.Values{"body": {"Hi {name} {url}"}, "action": {"save"}, "csrf_token": {sam.token}}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(doc.Text(), "templates.edit") {
		t.Errorf("a demoted marketer saving a template: %d, want 403 naming templates.edit", resp.StatusCode)
	}
	resp, _ = admin.post("/admin/users/"+itoa(u.ID)+"/disabled", url.Values{"disabled": {"true"}, "csrf_token": {admin.token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if resp, _ := sam.get("/admin/campaigns"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled user's next request: %d, want 303 to sign-in", resp.StatusCode)
	}
	if resp, _ := sam.login("sam@example.com", "plum-harbor-cactus-41"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a disabled user signing in: %d, want 401", resp.StatusCode)
	}
}

// invite invites email as role through the Users page and returns the
// set-password link the page shows once.
func (b *browser) invite(t *testing.T, email, role string) string {
	t.Helper()
	resp, doc := b.post("/admin/users", url.Values{"email": {email}, "role": {role}, "csrf_token": {b.token}})
	link, _ := doc.Find(`input[aria-label="Set-password link"]`).Attr("value")
	if resp.StatusCode != http.StatusOK || link == "" {
		t.Fatalf("invite %s: %d, link %q", email, resp.StatusCode, link)
	}
	return link
}

// setPassword follows a set-password link and chooses password.
func (b *browser) setPassword(t *testing.T, link, password string) {
	t.Helper()
	u := mustParseURL(t, link)
	_, doc := b.get(u.Path)
	resp, _ := b.post(u.Path, url.Values{"password": {password}, "csrf_token": {csrf(t, doc)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set password: %d", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The invite link works once, refuses weak passwords without spending
// itself, and the console shows each role only the actions it can take.
func TestInviteFlowAndHiddenActions(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	admin := app.signedIn(t)
	link := admin.invite(t, "vic@example.com", "viewer")
	if !regexp.MustCompile(`/admin/set-password/sli_[A-Za-z0-9_-]{43}$`).MatchString(link) {
		t.Fatalf("link %q", link)
	}
	vic := app.browser(t)
	path := mustParseURL(t, link).Path
	_, doc := vic.get(path)
	for _, weak := range []string{"short", "qwerty123456"} {
		resp, page := vic.post(path, url.Values{"password": {weak}, "csrf_token": {csrf(t, doc)}})
		if resp.StatusCode != http.StatusBadRequest || page.Find("#password-error").Length() != 1 {
			t.Errorf("password %q: %d, want 400 with the reason", weak, resp.StatusCode)
		}
	}
	vic.setPassword(t, link, "violet-kettle-drums-7")
	if resp, _ := vic.get(path); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a used link: %d, want 404", resp.StatusCode)
	}
	if resp, _ := vic.login("VIC@example.com", "violet-kettle-drums-7"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("vic's sign-in: %d", resp.StatusCode)
	}
	l := app.addLink(t, "https://hidden.example.com/", "campaign")
	for _, c := range []struct {
		b      *browser
		sel    string
		shown  bool
		reason string
	}{
		{admin, `a[aria-label="Deactivate ` + l.Slug + `"]`, true, "admins deactivate links"},
		{vic, `a[aria-label="Deactivate ` + l.Slug + `"]`, false, "viewers do not"},
	} {
		_, page := c.b.get("/admin/links")
		if got := page.Find(c.sel).Length() > 0; got != c.shown {
			t.Errorf("%s: %s shown=%t", c.reason, c.sel, got)
		}
	}
	letter := db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: l.ID, Day: time.Now(), Clicks: 3}}}
	if _, err := app.Store.DeadLetterClicks(context.Background(), db.NewBatchID(), letter, "timed out", 2); err != nil {
		t.Fatal(err)
	}
	_, page := vic.get("/admin/health")
	if page.Find(`form[action="/admin/health/check"]`).Length() != 0 || page.Find(`a[href="/admin/users"]`).Length() != 0 {
		t.Error("a viewer sees Check now or the Users page in the nav")
	}
	if page.Find("#dead-letters tbody tr").Length() != 1 || page.Find("#dead-letters form").Length() != 0 ||
		page.Find("#heal-link").Length() != 0 {
		t.Error("a viewer sees the dead letter without Replay and no Heal link: want that")
	}
	letters, err := app.Store.ClickDeadLetters(context.Background(), 10)
	if err != nil || len(letters) != 1 {
		t.Fatalf("letters %+v, %v", letters, err)
	}
	resp, page := vic.post("/admin/health/dead-letters/"+itoa(letters[0].ID)+"/replay", url.Values{"csrf_token": {vic.token}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page.Text(), "health.run") {
		t.Errorf("a viewer replaying a dead letter: %d, want 403 naming health.run", resp.StatusCode)
	}
	if left, _ := app.Store.ClickDeadLetters(context.Background(), 10); len(left) != 1 {
		t.Errorf("%d letters after a refused replay, want 1", len(left))
	}
	resp, page = vic.get("/admin/users")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page.Text(), "users.manage") {
		t.Errorf("a viewer on the Users page: %d, want 403 naming users.manage", resp.StatusCode)
	}
	resp, _ = vic.post("/admin/links/"+l.Slug+"/deactivate", url.Values{"csrf_token": {vic.token}})
	if resp.StatusCode != http.StatusForbidden || !app.isActive(t, l.Slug) {
		t.Errorf("a viewer deactivating: %d, active=%t; want 403 and still active", resp.StatusCode, app.isActive(t, l.Slug))
	}
}

// Failed sign-ins are throttled per account, from any number of clients,
// without locking the owner out: the browser they signed in with before
// still gets in.
func TestSignInThrottlePerAccountSparesTheOwner(t *testing.T) {
	t.Parallel()
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	app := newTestApp(t, func(c *handlers.Config) { c.Limits.TrustedProxies = []*net.IPNet{loopback} })
	owner := app.signedIn(t) // has the device cookie of "admin"
	limited := 0
	for i := range 15 {
		b := app.browser(t)
		_, doc := b.get("/admin/login")
		form := url.Values{"username": {testAdminUser}, "password": {"wrong guess " + itoa(int64(i))}, "csrf_token": {csrf(t, doc)}}
		req, _ := http.NewRequest("POST", app.URL+"/admin/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "198.51.100."+itoa(int64(i+1))) // a new client each time
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("15 failures from 15 clients against one account were never throttled")
	}
	// The owner, from the browser they used before, signs in all the same.
	if resp, _ := owner.post("/admin/logout", url.Values{"csrf_token": {owner.token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if resp, _ := owner.login(testAdminUser, testAdminPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the owner's known browser after the attack: %d, want 303", resp.StatusCode)
	}
	var failed int
	if err := app.Store.DB().Get(&failed, `SELECT COUNT(*) FROM audit_log WHERE action = 'session.sign_in_failed'`); err != nil || failed != 15-limited {
		t.Errorf("%d failed sign-ins in the trail (%v), want %d (throttled attempts are not checked)", failed, err, 15-limited)
	}
}

// The Audit page filters and exports the trail; the API pages it with
// limit and cursor; both are for admins only.
func TestAuditPageCSVAndAPI(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	// The start-up check writes a check.run row in its own transaction:
	// landing after the deactivation, it would be the newest row.
	app.waitForStartupCheck(t)
	admin := app.signedIn(t)
	l := app.addLink(t, "https://audited.example.com/", "campaign")
	if status, _ := app.api(t, "POST", "/api/v1/links/"+l.Slug+"/deactivate", nil); status != 200 {
		t.Fatalf("deactivate: %d", status)
	}
	resp, page := admin.get("/admin/audit?action=link.deactivated")
	rows := page.Find("tbody tr")
	if resp.StatusCode != 200 || rows.Length() != 1 || !strings.Contains(rows.Text(), "API_TOKEN") || !strings.Contains(rows.Text(), `"is_active": false`) {
		t.Errorf("audit page filtered on link.deactivated: %d, %d rows %q", resp.StatusCode, rows.Length(), rows.Text())
	}
	resp, err := admin.client.Get(app.URL + "/admin/audit.csv?object_type=link")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(string(body), "link.deactivated") ||
		!strings.HasPrefix(string(body), "id,at,actor") {
		t.Errorf("CSV: %s\n%s", ct, body)
	}
	// Paging: two rows a page until the cursor runs out.
	var seen []string
	cursor := ""
	for range 20 {
		status, out := app.api(t, "GET", "/api/v1/audit?limit=2&cursor="+url.QueryEscape(cursor), nil)
		if status != 200 {
			t.Fatalf("audit API: %d %v", status, out)
		}
		for _, e := range out["entries"].([]any) {
			seen = append(seen, e.(map[string]any)["action"].(string))
		}
		next, _ := out["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) < 3 || seen[0] != db.AuditLinkDeactivated {
		t.Errorf("actions paged newest first: %v", seen)
	}
	if status, body := app.api(t, "GET", "/api/v1/audit?since=yesterday", nil); status != 400 || errorOf(body, "field") != "since" {
		t.Errorf("a bad since: %d %v", status, body)
	}
}

// What the API answers a key's holder, data or refusal, stays out of every
// cache between them and the service (browsers, proxies).
func TestAPIAnswersAreNotStored(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	key := app.newKey(t, "viewer-key", "viewer")
	for _, c := range []struct {
		name string
		req  *http.Request
	}{
		{"a list", app.withKey("GET", "/api/v1/links", key, nil)},
		{"a refusal", app.withKey("POST", "/api/v1/links", key, map[string]string{"destination_url": "https://x.example.com/"})},
		{"no key", app.withKey("GET", "/api/v1/links", "", nil)},
		{"the Shlink API", shlinkRequest(t, app, "/rest/v3/short-urls", key)},
	} {
		resp, err := http.DefaultClient.Do(c.req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q, want no-store", c.name, resp.StatusCode, got)
		}
	}
}

func shlinkRequest(t *testing.T, app *testApp, path, key string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", app.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Api-Key", key)
	return req
}
