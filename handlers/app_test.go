package handlers_test

// The one test harness of this package: testApp (a real instance over a
// real database), what tests do through it (data, API calls, requests) and
// browser (a cookie-jar client for the admin pages). Helpers used from
// goroutines return errors instead of calling t.Fatal.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/handlers/requestlog"
	"github.com/shortlinks/shortlinks/handlers/urlpolicy"
	"github.com/shortlinks/shortlinks/migrations"
)

// Credentials every test app is configured with.
const (
	testToken         = "test-token-1"
	testAdminUser     = "admin"
	testAdminPassword = "correct horse battery staple"
)

// testApp is one instance of the real service, as in production: a real
// HTTP server, its own redirect cache, click counter and change feed, over
// a migrated database it may share with other instances.
type testApp struct {
	URL   string
	Store *db.Store
	H     *handlers.Handlers
	RT    *handlers.Runtime // the background work, as cmd/shortlinks starts it
	srv   *httptest.Server
	once  sync.Once
}

// newTestApp starts the service; configure adjusts the config first.
func newTestApp(t *testing.T, configure ...func(*handlers.Config)) *testApp {
	t.Helper()
	return newTestAppOn(t, pgtest.NewMigratedDatabase(t), configure...)
}

// newTestAppOn starts the service over the (empty) database at dbURL.
func newTestAppOn(t testing.TB, dbURL string, configure ...func(*handlers.Config)) *testApp {
	t.Helper()
	return newLoggingTestApp(t, dbURL, slog.New(slog.DiscardHandler), configure...)
}

// newLoggingTestApp starts the service with log for the handlers and the
// store, wrapped as cmd wraps it so lines carry the request ID.
func newLoggingTestApp(t testing.TB, dbURL string, log *slog.Logger, configure ...func(*handlers.Config)) *testApp {
	t.Helper()
	log = requestlog.Logger(log)
	ctx := context.Background()
	conn, err := db.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	m, err := migrations.New(conn.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	store := db.New(conn, db.Options{ReservedSlugs: handlers.ReservedSlugs(), Log: log})
	cfg := handlers.Config{
		APITokens:     []string{testToken, "second-token"},
		URLPolicy:     urlpolicy.Policy{MaxLength: 4096},
		AdminUser:     testAdminUser,
		AdminPassword: testAdminPassword,
		BcryptCost:    bcrypt.MinCost, // sign-ins in tests need not cost 50 ms each
	}
	cfg.Redirects.ListenURL = dbURL
	cfg.Redirects.FlushInterval = 20 * time.Millisecond // tests need not wait a second
	for _, f := range configure {
		f(&cfg)
	}
	srv := httptest.NewUnstartedServer(nil)
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + srv.Listener.Addr().String()
	}
	rt := handlers.Start(store, cfg, log) // as cmd/shortlinks runServer does
	if err := rt.Base.BootstrapAdmin(ctx); err != nil {
		t.Fatal(err)
	}
	h := handlers.New(rt)
	srv.Config.Handler = validateAPI(t, h.NewServer()) // openapi_validate_test.go
	srv.Start()
	app := &testApp{URL: srv.URL, Store: store, H: h, RT: rt, srv: srv}
	t.Cleanup(func() { app.shutdown(t) })
	return app
}

// shutdown stops as serve does on SIGTERM: no new requests, in-flight ones
// finished, then the final flush.
func (a *testApp) shutdown(t testing.TB) {
	t.Helper()
	a.once.Do(func() {
		a.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.RT.Stop(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
}

// noRedirects is a client that reports redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// api calls the JSON API with the test token and decodes the JSON answer.
func (a *testApp) api(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return doJSON(t, a.apiRequest(method, path, body))
}

// apiRequest is a JSON API request with the test token.
func (a *testApp) apiRequest(method, path string, body any) *http.Request {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		r = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, a.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func doJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	status, out, err := tryJSON(req)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

// tryJSON is doJSON for goroutines, which must not call t.Fatal.
func tryJSON(req *http.Request) (int, map[string]any, error) {
	resp, err := noRedirects.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			return 0, nil, fmt.Errorf("%s %s: invalid JSON %q", req.Method, req.URL.Path, raw)
		}
	}
	return resp.StatusCode, out, nil
}

// errorOf returns error.<key> of an error body ("field", "code", …).
func errorOf(body map[string]any, key string) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e[key].(string)
	return s
}

// countLinks counts every link, active or not.
func (a *testApp) countLinks(t *testing.T) int {
	t.Helper()
	var n int
	if err := a.Store.DB().Get(&n, `SELECT COUNT(*) FROM short_links`); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkDuplicates runs the full duplicate check now, as the monitor and
// `shortlinks check-duplicates` do; the dashboard and API show its result.
func (a *testApp) checkDuplicates(t *testing.T) {
	t.Helper()
	// Wait: the monitor may be running its own first check; this one runs after it.
	if _, err := a.Store.RunDuplicateCheck(context.Background(), db.CheckOptions{Wait: true}); err != nil {
		t.Fatal(err)
	}
}

// waitForStartupCheck waits for the duplicate check the monitor runs at
// start-up (no other runs until its interval). A test that reads what a
// check writes (duplicate_checks, its check.run audit row) and must not
// see it land later waits for it first.
func (a *testApp) waitForStartupCheck(t *testing.T) {
	t.Helper()
	if !pollUntil(10*time.Second, func() bool {
		var n int
		a.Store.DB().Get(&n, `SELECT count(*) FROM duplicate_checks`)
		return n > 0
	}) {
		t.Fatal("the monitor's first duplicate check never finished")
	}
}

// iPhone is the User-Agent of a person tapping a link.
const iPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

// migratedDatabase returns the URL of a fresh, migrated database.
func migratedDatabase(t testing.TB) string {
	t.Helper()
	return pgtest.NewMigratedDatabase(t)
}

// migrateDatabase applies every migration to the database at url.
func migrateDatabase(t testing.TB, url string) {
	t.Helper()
	conn, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m, err := migrations.New(conn.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// waitForFeed waits until the instance hears link changes.
func (a *testApp) waitForFeed(t *testing.T) {
	t.Helper()
	if !pollUntil(5*time.Second, func() bool { return a.H.RedirectStats().FeedConnected }) {
		t.Fatal("change feed never connected")
	}
}

// drainFeed waits until the change feed has handled every notification
// sent before the call. Notifications arrive in order on one connection, so
// it caches a marker slug as unknown, notifies the marker, and waits for its
// entry to be dropped. A link's creation notifies too, and may evict the
// link from the cache after it was warmed; tests that need an entry to stay
// (the database outage) drain first and warm after.
func (a *testApp) drainFeed(t *testing.T) {
	t.Helper()
	a.waitForFeed(t) // a notification sent while it is down is never delivered
	const marker = "Drain0"
	if resp, _ := request(t, "GET", a.URL+"/"+marker, iPhone); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("marker %s: status %d, want 404", marker, resp.StatusCode)
	}
	misses := a.H.RedirectStats().CacheMisses
	a.Store.DB().MustExec(`SELECT pg_notify($1, $2)`, db.LinkChangesChannel, marker)
	if !pollUntil(5*time.Second, func() bool {
		request(t, "GET", a.URL+"/"+marker, iPhone)
		return a.H.RedirectStats().CacheMisses > misses
	}) {
		t.Fatal("the change feed never delivered the marker")
	}
}

// link creates an active site_preview link through the store.
func (a *testApp) link(t testing.TB, destination string) db.Link {
	t.Helper()
	return a.addLink(t, destination, db.LinkTypeSitePreview)
}

// counts reads a link's click_count, preview_count and daily click total.
func (a *testApp) counts(t *testing.T, slug string) (clicks, previews, daily int64) {
	t.Helper()
	err := a.Store.DB().QueryRow(`SELECT c.click_count, c.preview_count,
			(SELECT COALESCE(SUM(clicks), 0) FROM link_clicks_daily WHERE link_id = l.id)
		FROM short_links l JOIN link_counters c ON c.link_id = l.id WHERE slug = $1`, slug).Scan(&clicks, &previews, &daily)
	if err != nil {
		t.Fatal(err)
	}
	return
}

// request sends one request without following redirects.
func request(t *testing.T, method, url, userAgent string) (*http.Response, string) {
	t.Helper()
	resp, body, err := tryRequest(method, url, userAgent)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// tryRequest is request for goroutines, which must not call t.Fatal.
func tryRequest(method, url, userAgent string) (*http.Response, string, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := noRedirects.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

// pollUntil checks cond for up to d: first after 5 ms, then backing off to
// every 50 ms, so a long wait does not spend the CPU (and the database
// queries) of a busy loop.
func pollUntil(d time.Duration, cond func() bool) bool {
	pause := 5 * time.Millisecond
	for deadline := time.Now().Add(d); time.Now().Before(deadline); pause = min(2*pause, 50*time.Millisecond) {
		if cond() {
			return true
		}
		time.Sleep(pause)
	}
	return cond()
}

// addLink creates a link through the store, as the API would.
func (a *testApp) addLink(t testing.TB, url, linkType string) db.Link {
	t.Helper()
	l, _, err := a.Store.GetOrCreateLink(context.Background(), db.LinkRequest{DestinationURL: url, LinkType: linkType})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rawLink inserts a row directly, bypassing the URL policy, like data
// written by an older version or by hand.
func (a *testApp) rawLink(t *testing.T, slug, destination string) {
	t.Helper()
	a.Store.DB().MustExec(`INSERT INTO short_links (slug, destination_url) VALUES ($1, $2)`, slug, destination)
}

// isActive reports whether the link slug is active.
func (a *testApp) isActive(t *testing.T, slug string) bool {
	t.Helper()
	l, err := a.Store.FindBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return l.IsActive
}

// getRaw fetches path and returns the status and the body as text.
func (b *browser) getRaw(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// submit posts the form matched by selector on doc with its own hidden
// fields (CSRF token and return address), as a browser would.
func (b *browser) submit(doc *goquery.Document, selector string) *http.Response {
	b.t.Helper()
	form := doc.Find(selector)
	if form.Length() != 1 {
		b.t.Fatalf("%d forms match %s", form.Length(), selector)
	}
	values := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		values.Set(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	resp, _ := b.post(form.AttrOr("action", ""), values)
	return resp
}

// addBusiness creates a business ready for outreach through the store.
func (a *testApp) addBusiness(t *testing.T, name, city, site string) db.Business {
	t.Helper()
	b, err := a.Store.CreateBusiness(context.Background(), db.NewBusiness{Name: name, City: city, SiteURL: site})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// activeLinksTo counts the active links whose destination is url.
func (a *testApp) activeLinksTo(t *testing.T, url string) int {
	t.Helper()
	var n int
	if err := a.Store.DB().Get(&n, `SELECT COUNT(*) FROM short_links WHERE destination_url = $1 AND is_active`, url); err != nil {
		t.Fatal(err)
	}
	return n
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, like a person's browser seen one response at a time.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
	token  string // CSRF token from the last sign-in form
}

// browser returns a signed-out browser for the app.
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

// lockedBuffer is a bytes.Buffer that other goroutines may write while
// the test reads it (logs, a browser's output).
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
