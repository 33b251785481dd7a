package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers"
)

func TestRedirectAnswers(t *testing.T) {
	t.Parallel()
	app := newTestAppOn(t, migratedDatabase(t))
	active := app.link(t, "https://bakery.example.com/spring?utm_source=sms")
	retired := app.link(t, "https://bakery.example.com/winter")
	if _, err := app.Store.Deactivate(context.Background(), retired.Slug); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path string
		status             int
		location, body     string
	}{
		{"active link", "GET", "/" + active.Slug, 302, active.DestinationURL, ""},
		{"active link, HEAD", "HEAD", "/" + active.Slug, 302, active.DestinationURL, ""},
		{"unknown slug", "GET", "/Zz9Zz9", 404, "", "does not exist"},
		{"unknown slug, HEAD", "HEAD", "/Zz9Zz9", 404, "", ""},
		{"malformed slug", "GET", "/no.such-link", 404, "", "does not exist"},
		{"too long a slug", "GET", "/" + strings.Repeat("a", 40), 404, "", "does not exist"},
		{"deactivated link", "GET", "/" + retired.Slug, 410, "", "retired"},
		{"deactivated link, HEAD", "HEAD", "/" + retired.Slug, 410, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := request(t, tt.method, app.URL+tt.path, iPhone)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			if got := resp.Header.Get("Cache-Control"); got != "private, max-age=0" {
				t.Errorf("Cache-Control %q, want private, max-age=0 (every tap must reach us)", got)
			}
			if tt.status >= 400 && tt.method == "GET" {
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("Content-Type %q, want an HTML page", ct)
				}
				if !strings.Contains(body, tt.body) || !strings.Contains(body, "<html") {
					t.Errorf("body does not say %q:\n%s", tt.body, body)
				}
			}
			if tt.method == "HEAD" && body != "" {
				t.Errorf("HEAD answered with a body: %q", body)
			}
		})
	}
	st := app.H.RedirectStats()
	if st.Redirects != 1 || st.Clicks != 1 || st.Previews != 1 || st.Gone != 2 || st.NotFound != 2 {
		t.Errorf("stats %+v: want 1 redirect (a click), 1 preview, 2 gone, 2 not found (malformed slugs never reach the lookup)", st)
	}
}

func TestRedirectStatusIsConfigurable(t *testing.T) {
	t.Parallel()
	url := migratedDatabase(t)
	for _, status := range []int{301, 302, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			app := newTestAppOn(t, url, func(c *handlers.Config) { c.RedirectStatus = status })
			l := app.link(t, "https://status.example.com/")
			resp, _ := request(t, "GET", app.URL+"/"+l.Slug, iPhone)
			if resp.StatusCode != status || resp.Header.Get("Location") != l.DestinationURL {
				t.Errorf("got %d to %q, want %d to %q", resp.StatusCode, resp.Header.Get("Location"), status, l.DestinationURL)
			}
		})
	}
}

// The core promise: after N clients × M redirects and a graceful
// shutdown, click_count equals exactly the redirects served, with flushes
// running all along.
func TestEveryRedirectIsCountedExactlyOnce(t *testing.T) {
	t.Parallel()
	app := newTestAppOn(t, migratedDatabase(t))
	links := []db.Link{app.link(t, "https://viral.example.com/"), app.link(t, "https://other.example.com/")}
	const clients, each = 32, 60
	var served [2]atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				k := (c + i) % 2
				resp, _ := request(t, "GET", app.URL+"/"+links[k].Slug, iPhone)
				if resp.StatusCode == http.StatusFound {
					served[k].Add(1)
				}
			}
		})
	}
	wg.Wait()
	app.shutdown(t)
	if total := served[0].Load() + served[1].Load(); total != clients*each {
		t.Fatalf("%d redirects served, want %d", total, clients*each)
	}
	for k, l := range links {
		clicks, previews, daily := app.counts(t, l.Slug)
		if clicks != served[k].Load() || daily != served[k].Load() || previews != 0 {
			t.Errorf("link %d: click_count %d, daily %d, previews %d; want %d, %d, 0", k, clicks, daily, previews, served[k].Load(), served[k].Load())
		}
	}
	if st := app.H.RedirectStats(); st.PendingClicks != 0 || st.FlushFailures != 0 {
		t.Errorf("after close: %+v", st)
	}
}

// Messaging apps fetch every link to draw a preview card; those fetches
// (and HEADs) are counted as previews, never as clicks.
func TestPreviewsAreCountedApartFromClicks(t *testing.T) {
	t.Parallel()
	app := newTestAppOn(t, migratedDatabase(t))
	l := app.link(t, "https://preview.example.com/")
	previewers := []string{
		"facebookexternalhit/1.1",
		"WhatsApp/2.23.20.0",
		"TelegramBot (like TwitterBot)",
		"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
		"Twitterbot/1.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
	}
	for _, ua := range previewers {
		if resp, _ := request(t, "GET", app.URL+"/"+l.Slug, ua); resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: status %d, want 302 (previews still redirect)", ua, resp.StatusCode)
		}
	}
	request(t, "HEAD", app.URL+"/"+l.Slug, iPhone)
	request(t, "GET", app.URL+"/"+l.Slug, iPhone)
	request(t, "GET", app.URL+"/"+l.Slug, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36")
	app.shutdown(t)
	clicks, previews, _ := app.counts(t, l.Slug)
	if clicks != 2 || previews != int64(len(previewers))+1 {
		t.Errorf("click_count %d, preview_count %d; want 2 clicks, %d previews", clicks, previews, len(previewers)+1)
	}
}

// A destination that would not be accepted today (here planted by hand)
// is not redirected to.
func TestUnacceptableDestinationIsNotRedirected(t *testing.T) {
	t.Parallel()
	app := newTestAppOn(t, migratedDatabase(t))
	for i, dest := range []string{"javascript:alert(1)", "ftp://files.example.com/x", "data:text/html,hi"} {
		slug := fmt.Sprintf("bad%d", i)
		app.Store.DB().MustExec(`INSERT INTO short_links (slug, destination_url) VALUES ($1, $2)`, slug, dest)
		if resp, _ := request(t, "GET", app.URL+"/"+slug, iPhone); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
			t.Errorf("%s: status %d, Location %q; want 404 and no redirect", dest, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// /metrics reads the redirect counters.
func TestRedirectCountersReachMetrics(t *testing.T) {
	t.Parallel()
	app := newTestAppOn(t, migratedDatabase(t))
	l := app.link(t, "https://metrics.example.com/")
	request(t, "GET", app.URL+"/"+l.Slug, iPhone)
	request(t, "GET", app.URL+"/"+l.Slug, "WhatsApp/2.23.20.0")
	if !pollUntil(5*time.Second, func() bool { return app.H.RedirectStats().PendingClicks == 0 }) {
		t.Fatal("clicks not flushed")
	}
	resp, body := request(t, "GET", app.URL+"/metrics", "curl/8")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{`shortlinks_redirects_total{outcome="redirect"} 1`, `shortlinks_redirects_total{outcome="preview"} 1`, "shortlinks_clicks_flushed_total 1", "shortlinks_clicks_pending 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
