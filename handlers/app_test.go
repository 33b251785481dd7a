package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/handlers"
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
	srv   *httptest.Server
	once  sync.Once
}

// newTestApp starts the service; configure adjusts the config first.
func newTestApp(t *testing.T, configure ...func(*handlers.Config)) *testApp {
	t.Helper()
	return newTestAppOn(t, pgtest.NewDatabase(t), configure...)
}

// newTestAppOn starts the service over the (empty) database at dbURL.
func newTestAppOn(t testing.TB, dbURL string, configure ...func(*handlers.Config)) *testApp {
	t.Helper()
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
	store := db.New(conn, db.Options{ReservedSlugs: handlers.ReservedSlugs})
	cfg := handlers.Config{
		APITokens:     []string{testToken, "second-token"},
		URLPolicy:     urlpolicy.Policy{MaxLength: 4096},
		AdminUser:     testAdminUser,
		AdminPassword: testAdminPassword,
	}
	cfg.Redirects.ListenURL = dbURL
	cfg.Redirects.FlushInterval = 20 * time.Millisecond // tests need not wait a second
	for _, f := range configure {
		f(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewUnstartedServer(nil)
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + srv.Listener.Addr().String()
	}
	h := handlers.New(store, cfg, log)
	srv.Config.Handler = h.NewServer()
	srv.Start()
	app := &testApp{URL: srv.URL, Store: store, H: h, srv: srv}
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
		if err := a.H.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
}

// noRedirects is a client that reports redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// api calls the JSON API with the test token and decodes the JSON answer.
func (a *testApp) api(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
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
	return doJSON(t, req)
}

func doJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: invalid JSON %q", req.Method, req.URL.Path, raw)
		}
	}
	return resp.StatusCode, out
}

// errorField returns error.field (or error.code with key "code") of an error body.
func errorOf(body map[string]any, key string) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e[key].(string)
	return s
}

func (a *testApp) countLinks(t *testing.T) int {
	t.Helper()
	var n int
	if err := a.Store.DB().Get(&n, `SELECT COUNT(*) FROM short_links`); err != nil {
		t.Fatal(err)
	}
	return n
}
