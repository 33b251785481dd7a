package handlers_test

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/handlers"
)

// Slug guessing: one client asking for hundreds of unknown slugs starts
// getting 429 with Retry-After, for real links too, until it cools down;
// then real links redirect again.
func TestUnknownSlugsAreRateLimited(t *testing.T) {
	t.Parallel()
	// 600 a minute: a token every 100 ms, so the cool-down is short.
	app := newTestApp(t, func(c *handlers.Config) { c.Limits.NotFoundBurst = 20; c.Limits.NotFoundPerMinute = 600 })
	_, link := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://real.example.com/"})
	slug := link["slug"].(string)

	var limited *http.Response
	for i := range 300 {
		resp, err := noRedirects.Get(app.URL + "/guess" + strings.Repeat("x", i%5) + string(rune('a'+i%26)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = resp
			break
		}
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	if limited == nil || limited.Header.Get("Retry-After") == "" {
		t.Fatal("300 unknown slugs from one client were never limited")
	}
	// Once cooled down, the client's real links redirect again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := noRedirects.Get(app.URL + "/" + slug)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound {
			break
		}
		if resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("existing link after the limit: %d, want 429 then 302 once cooled down", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond) // polling for the cool-down, not waiting it out
	}
}

// A client over the unknown-slug limit is answered before any lookup: a
// real slug it guesses gets 429, not 302, and costs the database nothing.
// Another client is not affected.
func TestGuesserOverTheLimitIsRefusedBeforeAnyLookup(t *testing.T) {
	t.Parallel()
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	app := newTestApp(t, func(c *handlers.Config) {
		c.Limits.NotFoundBurst = 5
		c.Limits.NotFoundPerMinute = 1 // no token comes back during the test
		c.Limits.TrustedProxies = []*net.IPNet{loopback}
	})
	_, link := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://real.example.com/guessed"})
	slug := link["slug"].(string)
	get := func(client, slug string) *http.Response {
		req, _ := http.NewRequest("GET", app.URL+"/"+slug, nil)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	const guesser = "203.0.113.66"
	for i := range 6 {
		get(guesser, "nosuch"+strconv.Itoa(i))
	}
	before := app.H.RedirectStats()
	resp := get(guesser, slug)
	after := app.H.RedirectStats()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("real slug guessed by a client over the limit: %d (Retry-After %q), want 429 with Retry-After",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp.Header.Get("Location") != "" {
		t.Errorf("the 429 reveals the destination: %q", resp.Header.Get("Location"))
	}
	if lookups := (after.CacheHits + after.CacheMisses) - (before.CacheHits + before.CacheMisses); lookups != 0 {
		t.Errorf("%d lookups ran for a client over the limit, want none", lookups)
	}
	if got := get("198.51.100.7", slug).StatusCode; got != http.StatusFound {
		t.Errorf("the same slug for another client: %d, want 302", got)
	}
}

func TestUnauthenticatedAPICallsAreRateLimited(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) { c.Limits.UnauthPerMinute = 10 })
	got429 := false
	for range 30 {
		req, _ := http.NewRequest("GET", app.URL+"/api/v1/health/duplicates", nil)
		req.Header.Set("Authorization", "Bearer guess")
		status, body := doJSON(t, req)
		if status == http.StatusTooManyRequests {
			got429 = errorOf(body, "code") == "rate_limited"
			break
		}
	}
	if !got429 {
		t.Fatal("30 calls with a wrong token were never limited")
	}
	// A caller with a valid token is not limited by default.
	for range 30 {
		if status, _ := app.api(t, "GET", "/api/v1/health/duplicates", nil); status != http.StatusOK {
			t.Fatalf("valid token: %d", status)
		}
	}
}

func TestPerTokenLimitIsOptIn(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) { c.Limits.TokenPerMinute = 5 })
	limited := false
	for range 20 {
		if status, _ := app.api(t, "GET", "/api/v1/health/duplicates", nil); status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("per-token limit of 5/min never applied")
	}
}

func TestSecurityHeadersOnPages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	resp, err := http.Get(app.URL + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("headers: %v", resp.Header)
	}
}

func TestTrustedProxyDecidesClientIP(t *testing.T) {
	t.Parallel()
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	// Behind a trusted proxy, each forwarded client has its own allowance.
	app := newTestApp(t, func(c *handlers.Config) {
		c.Limits.NotFoundBurst = 5
		c.Limits.TrustedProxies = []*net.IPNet{loopback}
	})
	status := func(clientIP string) int {
		req, _ := http.NewRequest("GET", app.URL+"/nosuchlink", nil)
		req.Header.Set("X-Forwarded-For", clientIP)
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 10 {
		status("203.0.113.7")
	}
	if got := status("203.0.113.7"); got != http.StatusTooManyRequests {
		t.Errorf("guessing client: %d, want 429", got)
	}
	if got := status("198.51.100.9"); got != http.StatusNotFound {
		t.Errorf("another client behind the same proxy: %d, want 404", got)
	}
}

// An IPv6 client cannot escape the limit by rotating through its /64.
func TestIPv6ClientsAreLimitedByPrefix(t *testing.T) {
	t.Parallel()
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	app := newTestApp(t, func(c *handlers.Config) {
		c.Limits.NotFoundBurst = 5
		c.Limits.TrustedProxies = []*net.IPNet{loopback}
	})
	var last int
	for i := range 20 {
		req, _ := http.NewRequest("GET", app.URL+"/nosuchlink", nil)
		req.Header.Set("X-Forwarded-For", "2001:db8:1:2::"+strconv.Itoa(i+1))
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("20 unknown slugs from one /64: last status %d, want 429", last)
	}
}

// Strict-Transport-Security is sent when the service is public over https,
// and only then (over plain http it would be ignored or, on a LAN, wrong).
func TestHSTSWhenBaseURLIsHTTPS(t *testing.T) {
	t.Parallel()
	for base, want := range map[string]bool{"https://sl.example": true, "": false} {
		app := newTestApp(t, func(c *handlers.Config) { c.BaseURL = base })
		for _, path := range []string{"/healthz", "/admin/login", "/nosuchlink"} {
			resp, err := noRedirects.Get(app.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Strict-Transport-Security"); (got != "") != want || want && !strings.Contains(got, "max-age=") {
				t.Errorf("BASE_URL %q, %s: Strict-Transport-Security %q", base, path, got)
			}
		}
	}
}
