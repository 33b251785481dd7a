package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shortlinks/shortlinks/handlers"
)

const allowedOrigin = "https://app.example.com"

func corsApp(t *testing.T, origins ...string) *testApp {
	return newTestApp(t, func(c *handlers.Config) { c.CORSAllowedOrigins = origins })
}

// A preflight from an allowed origin is answered with the methods and
// headers the APIs use and never allows credentials; one from another
// origin, and every admin page, gets no CORS header at all.
func TestCORSPreflightAndCalls(t *testing.T) {
	t.Parallel()
	app := corsApp(t, allowedOrigin)
	preflight := func(path, origin, method, headers string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", app.URL+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", headers)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tc := range []struct{ path, method, headers string }{
		{"/api/v1/links", "POST", "authorization, content-type, idempotency-key"},
		{"/api/v1/webhooks/endpoints/7", "PATCH", "authorization, content-type"},
		{"/rest/v3/short-urls", "GET", "x-api-key"},
		{"/rest/v3/short-urls/abc", "DELETE", "x-api-key"},
		{"/rest/health", "GET", ""},
		{"/api/v1/no-such-route", "GET", "authorization"}, // answered whatever the route table says
	} {
		resp := preflight(tc.path, allowedOrigin, tc.method, tc.headers)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != allowedOrigin ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), tc.method) || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight %s %s: %d %v", tc.method, tc.path, resp.StatusCode, h)
		}
		for _, want := range []string{"Authorization", "X-Api-Key", "Content-Type", "Idempotency-Key"} {
			if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
				t.Errorf("preflight %s: %s not allowed: %q", tc.path, want, h.Get("Access-Control-Allow-Headers"))
			}
		}
	}
	if h := preflight("/api/v1/links", "https://evil.example.com", "POST", "authorization").Header; h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin's preflight allowed: %v", h)
	}
	if h := preflight("/admin/links", allowedOrigin, "POST", "content-type").Header; h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("an admin page answered a preflight with CORS headers: %v", h)
	}

	// The call itself: the origin is allowed to read the answer, errors too.
	req := app.apiRequest("GET", "/api/v1/links", nil)
	req.Header.Set("Origin", allowedOrigin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != allowedOrigin || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("cross-origin GET: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ = http.NewRequest("GET", app.URL+"/rest/v3/short-urls", nil)
	req.Header.Set("Origin", allowedOrigin)
	if resp, err = http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != allowedOrigin {
			t.Errorf("cross-origin call without a key: %d %v, want 401 readable by the page", resp.StatusCode, resp.Header)
		}
	}
	req = app.apiRequest("GET", "/api/v1/no-such-route", nil)
	req.Header.Set("Origin", allowedOrigin)
	if resp, err = http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != allowedOrigin {
			t.Errorf("cross-origin call of no route: %d %v, want 404 readable by the page", resp.StatusCode, resp.Header)
		}
	}
	req, _ = http.NewRequest("GET", app.URL+"/admin/login", nil)
	req.Header.Set("Origin", allowedOrigin)
	if resp, err = http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("admin page with CORS headers: %v", resp.Header)
		}
	}

	// By default no origin is allowed.
	plain := newTestApp(t)
	req, _ = http.NewRequest("OPTIONS", plain.URL+"/api/v1/links", nil)
	req.Header.Set("Origin", allowedOrigin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	if resp, err = http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("CORS allowed without CORS_ALLOWED_ORIGINS: %v", resp.Header)
		}
	}
}

// A page on another origin calls both APIs from a real browser: the Shlink
// web client's list call with X-Api-Key, and a POST with a bearer token,
// JSON and an Idempotency-Key (all preflighted); a page on an origin that
// is not allowed is refused by the browser.
func TestCORSFromABrowserPage(t *testing.T) {
	t.Parallel()
	chrome := findChromium(t)
	page := func(api string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `<!doctype html><title>client</title><script>
window.results = {};
// The list first, then the create: run together, the list could see the
// new link.
fetch(%[1]q + "/rest/v3/short-urls", {headers: {"X-Api-Key": %[2]q}})
  .then(r => r.json()).then(j => { results.shlink = j.shortUrls.data.length; })
  .catch(e => { results.shlink = "refused"; })
  .then(() => fetch(%[1]q + "/api/v1/links", {method: "POST", headers: {"Authorization": "Bearer " + %[2]q,
    "Content-Type": "application/json", "Idempotency-Key": "page-1"},
    body: JSON.stringify({destination_url: "https://cors.example.com/"})}))
  .then(r => r.json().then(j => { results.created = r.status + " " + j.slug; }))
  .catch(e => { results.created = "refused"; });
</script>`, api, testToken)
		}))
	}
	allowedPage := page("")
	t.Cleanup(allowedPage.Close)
	app := corsApp(t, allowedPage.URL)
	allowedPage.Config.Handler = page(app.URL).Config.Handler
	otherPage := page(app.URL)
	t.Cleanup(otherPage.Close)

	read := func(url string) (shlink, created string) {
		ctx := newHeadlessBrowser(t, chrome)
		run(t, ctx, "open "+url, chromedp.Do(ctx, chromedp.Navigate(url)))
		var done bool
		var err error
		for deadline := time.Now().Add(20 * time.Second); !done && time.Now().Before(deadline); {
			done, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`results.shlink !== undefined && results.created !== undefined`))
			run(t, ctx, "read results", err)
			if !done {
				time.Sleep(50 * time.Millisecond)
			}
		}
		shlink, err = chromedp.Run(ctx, chromedp.Evaluate[string](`String(results.shlink)`))
		run(t, ctx, "results", err)
		created, err = chromedp.Run(ctx, chromedp.Evaluate[string](`String(results.created)`))
		run(t, ctx, "results", err)
		return shlink, created
	}
	if shlink, created := read(allowedPage.URL); shlink != "0" || !strings.HasPrefix(created, "201 ") {
		t.Errorf("from the allowed origin: shlink list %q, create %q; want 0 links and a 201", shlink, created)
	}
	if shlink, created := read(otherPage.URL); shlink != "refused" || created != "refused" {
		t.Errorf("from another origin: shlink list %q, create %q; want both refused by the browser", shlink, created)
	}
	if n := app.activeLinksTo(t, "https://cors.example.com/"); n != 1 {
		t.Errorf("%d links made; the refused origin's POST must not reach the API", n)
	}
}
