package handlers_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers"
)

// Slug guessing: one client asking for hundreds of unknown slugs starts
// getting 429 with Retry-After for unknown slugs, while its real links
// still redirect (as suspect taps, not clicks); once cooled down, its
// unknown slugs get 404 again.
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
	if resp, err := noRedirects.Get(app.URL + "/" + slug); err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("real link for a client over the limit: %v %v, want 302", resp.StatusCode, err)
	}
	// Once cooled down, an unknown slug is a plain 404 again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := noRedirects.Get(app.URL + "/guess-after")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			break
		}
		if resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("unknown slug after the limit: %d, want 429 then 404 once cooled down", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond) // polling for the cool-down, not waiting it out
	}
}

// A client over the unknown-slug limit: a real slug it asks for is
// redirected but counted as a suspect tap, not a click; an unknown one
// gets 429; a slug the cache knows is answered without a lookup. Another
// client is not affected.
func TestClientOverTheLimitIsRedirectedButNotCounted(t *testing.T) {
	t.Parallel()
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	app := newTestApp(t, func(c *handlers.Config) {
		c.Limits.NotFoundBurst = 5
		c.Limits.NotFoundPerMinute = 1 // no token comes back during the test
		c.Limits.TrustedProxies = []*net.IPNet{loopback}
	})
	app.waitForFeed(t) // its first resync would expire the cached entry
	cached := app.addLink(t, "https://real.example.com/cached", "campaign")
	uncached := app.addLink(t, "https://real.example.com/uncached", "campaign")
	app.drainFeed(t) // their creation notifications must not evict the tap below
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
	// Cached by another client's tap just before (right before: on a busy
	// machine the guesses above can outlast a cache entry's trust).
	if got := get("198.51.100.7", cached.Slug).StatusCode; got != http.StatusFound {
		t.Fatalf("first tap: %d", got)
	}
	before := app.H.RedirectStats()
	resp := get(guesser, cached.Slug)
	after := app.H.RedirectStats()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != cached.DestinationURL {
		t.Errorf("cached real slug for a client over the limit: %d to %q, want 302", resp.StatusCode, resp.Header.Get("Location"))
	}
	if after.CacheMisses != before.CacheMisses {
		t.Errorf("a cached slug cost a lookup")
	}
	if got := get(guesser, uncached.Slug); got.StatusCode != http.StatusFound {
		t.Errorf("uncached real slug for a client over the limit: %d, want 302", got.StatusCode)
	}
	if got := get(guesser, "nosuch0"); got.StatusCode != http.StatusTooManyRequests || got.Header.Get("Retry-After") == "" {
		t.Errorf("known-unknown slug: %d, want 429 with Retry-After", got.StatusCode)
	}
	if got := get(guesser, "nosuch-new"); got.StatusCode != http.StatusTooManyRequests {
		t.Errorf("uncached unknown slug: %d, want 429", got.StatusCode)
	}
	if got := get("198.51.100.7", "nosuch-other"); got.StatusCode != http.StatusNotFound {
		t.Errorf("another client's unknown slug: %d, want 404", got.StatusCode)
	}
	st := app.H.RedirectStats()
	if st.Clicks != 1 || st.SuspectTaps != 2 {
		t.Errorf("clicks %d, suspect taps %d; want 1 (the other client's) and 2", st.Clicks, st.SuspectTaps)
	}
	if !pollUntil(10*time.Second, func() bool { return app.H.RedirectStats().SuspectTapsFlushed == 2 }) {
		t.Fatal("suspect taps never written")
	}
	for _, l := range []db.Link{cached, uncached} {
		if n, err := app.Store.SuspectTaps(context.Background(), l.ID); err != nil || n != 1 {
			t.Errorf("%s: suspect taps %d (%v), want 1", l.Slug, n, err)
		}
	}
	b := app.signedIn(t)
	_, doc := b.get("/admin/links/" + uncached.Slug)
	if got := strings.TrimSpace(doc.Find("#suspect-total").Text()); got != "1" {
		t.Errorf("link page shows suspect taps %q, want 1", got)
	}
	if got := strings.TrimSpace(doc.Find("#clicks-total").Text()); got != "0" {
		t.Errorf("link page shows clicks %q, want 0", got)
	}
}

// The target: a device sending misses as fast as it can from one
// address (IPv4) or one /64 (IPv6) never locks out the recipients behind
// that address. 200 real taps, cached and uncached links alike, made while
// the guesser runs: 200 redirects, no 429, no 503; neither they nor the
// guesser's own hits on real slugs add a click.
func TestGuesserNeverLocksOutRealRecipients(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, guesser, recipient string }{
		{"IPv4", "203.0.113.66", "203.0.113.66"},
		{"IPv6 /64", "2001:db8:5:6::1", "2001:db8:5:6:abcd::9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			guesserNeverLocksOut(t, tc.guesser, tc.recipient)
		})
	}
}

func guesserNeverLocksOut(t *testing.T, guesser, recipient string) {
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	app := newTestApp(t, func(c *handlers.Config) {
		c.Limits.NotFoundBurst = 20
		c.Limits.NotFoundPerMinute = 60
		c.Limits.TrustedProxies = []*net.IPNet{loopback}
	})
	var links []db.Link
	for i := range 40 {
		links = append(links, app.addLink(t, "https://real.example.com/r"+strconv.Itoa(i), "campaign"))
	}
	client := &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	status := func(from, slug string) (int, error) {
		req, _ := http.NewRequest("GET", app.URL+"/"+slug, nil)
		req.Header.Set("X-Forwarded-For", from)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	// The guesser: 8 connections of random unknown slugs, one in 20 a
	// real one, until the recipients are done.
	stop := make(chan struct{})
	var guesses, guessedReal, guesser429 atomic.Int64
	guessErr := make(chan error, 8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					guessErr <- nil
					return
				default:
				}
				slug := "guess" + strconv.Itoa(g) + "x" + strconv.Itoa(i)
				if i%20 == 19 {
					slug = links[(g+i)%len(links)].Slug
				}
				code, err := status(guesser, slug)
				if err != nil {
					guessErr <- err
					return
				}
				guesses.Add(1)
				switch {
				case code == http.StatusTooManyRequests:
					guesser429.Add(1)
				case code == http.StatusFound && i%20 == 19:
					guessedReal.Add(1)
				}
			}
		})
	}
	if !pollUntil(10*time.Second, func() bool { return app.H.RedirectStats().Limited > 0 }) {
		t.Fatal("the guesser never went over the limit")
	}
	clicksBefore := app.H.RedirectStats().Clicks

	// The recipients: 200 taps on 4 connections, while the guesser runs.
	var redirected, refused atomic.Int64
	tapErr := make(chan error, 4)
	var taps sync.WaitGroup
	for r := range 4 {
		taps.Go(func() {
			for i := range 50 {
				code, err := status(recipient, links[(r*50+i)%len(links)].Slug)
				if err != nil {
					tapErr <- err
					return
				}
				if code == http.StatusFound {
					redirected.Add(1)
				} else {
					refused.Add(1)
				}
			}
		})
	}
	taps.Wait()
	close(stop)
	wg.Wait()
	close(tapErr)
	for err := range tapErr {
		t.Fatal(err)
	}
	for range 8 {
		if err := <-guessErr; err != nil {
			t.Fatal(err)
		}
	}
	if redirected.Load() != 200 || refused.Load() != 0 {
		t.Errorf("recipients: %d redirected, %d refused; want 200 and 0", redirected.Load(), refused.Load())
	}
	st := app.H.RedirectStats()
	if st.Clicks != clicksBefore {
		t.Errorf("clicks went from %d to %d while the address was over the limit, want no change", clicksBefore, st.Clicks)
	}
	if guesser429.Load() == 0 {
		t.Error("the guesser's misses were never refused")
	}
	if st.Busy != 0 {
		t.Errorf("%d lookups refused for want of a slot, want 0", st.Busy)
	}
	t.Logf("guesser: %d requests (%d answered 429, %d real hits redirected as suspect); %d lookup statements in all",
		guesses.Load(), guesser429.Load(), guessedReal.Load(), st.LookupStatements)
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
		c.Limits.NotFoundPerMinute = 1 // no token comes back during the test
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
		c.Limits.NotFoundPerMinute = 1 // no token comes back during the test
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
