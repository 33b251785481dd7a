package handlers_test

import (
	"net/http"
	"testing"

	"github.com/shortlinks/shortlinks/handlers"
)

// A short link on a trusted domain must not lead SMS recipients into an
// intranet or to a cloud metadata service: such destinations are refused
// with a 400 naming destination_url, and nothing is created.
func TestPrivateDestinationsAreRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for _, dest := range []string{
		"http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:22/", "http://localhost/",
		"http://10.0.0.1/", "https://[::1]/", "http://metadata.google.internal/", "http://0.0.0.0/",
		"http://[fd00:ec2::254]/", "http://intranet/",
	} {
		status, body := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": dest})
		if status != http.StatusBadRequest || errorOf(body, "field") != "destination_url" {
			t.Errorf("%s: %d %v, want 400 naming destination_url", dest, status, body)
		}
	}
	status, body := app.api(t, "POST", "/api/v1/businesses", map[string]any{"name": "Intranet", "site_url": "http://192.168.1.10/"})
	if status != http.StatusBadRequest || errorOf(body, "field") != "site_url" {
		t.Errorf("private site_url: %d %v, want 400 naming site_url", status, body)
	}
	if n := app.countLinks(t); n != 0 {
		t.Errorf("%d links created", n)
	}
}

// ALLOW_PRIVATE_DESTINATIONS=true admits them (an intranet deployment).
func TestPrivateDestinationsAllowedWhenConfigured(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) { c.URLPolicy.AllowPrivate = true })
	status, body := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "http://10.0.0.1/wiki"})
	if status != http.StatusCreated {
		t.Fatalf("with the allow flag: %d %v, want 201", status, body)
	}
	resp, err := noRedirects.Get(app.URL + "/" + body["slug"].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://10.0.0.1/wiki" {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A link stored before the policy (or by hand) that violates it answers
// 404, as the redirect-time re-validation does for any invalid destination.
func TestExistingPrivateLinkAnswers404(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.rawLink(t, "meta01", "http://169.254.169.254/latest/meta-data/")
	resp, err := noRedirects.Get(app.URL + "/meta01")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
		t.Errorf("existing private link: %d Location %q, want 404 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
}
