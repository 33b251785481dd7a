package handlers_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shortlinks/shortlinks/handlers"
)

// Correct sign-ins do not use up the failed-sign-in allowance: people
// behind one NAT address must not lock each other out by signing in.
func TestSuccessfulSignInsDoNotCountAsFailures(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for i := range 20 {
		if resp, _ := app.browser(t).login(testAdminUser, testAdminPassword); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("correct sign-in %d of 20: %d, want 303", i+1, resp.StatusCode)
		}
	}
	b := app.browser(t)
	for i := range 5 {
		if resp, _ := b.login(testAdminUser, "guess"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	if resp, _ := b.login(testAdminUser, testAdminPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("6th attempt after 5 failures: %d, want 429", resp.StatusCode)
	}
}

// signInFrom posts the sign-in form as the client at ip, behind the
// trusted proxy, with b's CSRF cookie and token.
func signInFrom(t *testing.T, b *browser, ip, password string) int {
	t.Helper()
	return signInAs(t, b, ip, testAdminUser, password)
}

// signInAs is signInFrom for another account.
func signInAs(t *testing.T, b *browser, ip, user, password string) int {
	t.Helper()
	form := url.Values{"username": {user}, "password": {password}, "csrf_token": {b.token}}
	req, _ := http.NewRequest("POST", b.base+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Past the number of clients the limiter tracks, a new client gets an
// allowance of its own instead of sharing one that a flood exhausted,
// while the flood's recent clients stay limited.
func TestSignInLimitFloodPastCapacity(t *testing.T) {
	t.Parallel()
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	// Any capacity shows it; a small one keeps the flood (2 × capacity
	// clients, five failed sign-ins each, a bcrypt check apiece under the
	// race detector) to a hundred requests.
	const capacity = 10
	app := newTestApp(t, func(c *handlers.Config) {
		c.Limits.MaxClients = capacity
		c.Limits.TrustedProxies = []*net.IPNet{loopback}
	})
	flooder := app.browser(t)
	_, doc := flooder.get("/admin/login")
	flooder.token = csrf(t, doc)
	var last string
	for i := range 2 * capacity {
		last = fmt.Sprintf("198.51.%d.%d", i/200, i%200+1)
		for range 5 {
			// An account per client: the per-account limit is not what
			// this test is about (teams_test.go tests it).
			if got := signInAs(t, flooder, last, "user-"+last, "guess"); got != http.StatusUnauthorized {
				t.Fatalf("flood client %s: %d, want 401", last, got)
			}
		}
	}
	if got := signInFrom(t, flooder, last, testAdminPassword); got != http.StatusTooManyRequests {
		t.Errorf("a flooded client with the right password: %d, want 429", got)
	}
	fresh := app.browser(t)
	_, doc = fresh.get("/admin/login")
	fresh.token = csrf(t, doc)
	if got := signInFrom(t, fresh, "203.0.113.77", testAdminPassword); got != http.StatusSeeOther {
		t.Errorf("a fresh client after the flood: %d, want 303", got)
	}
}
