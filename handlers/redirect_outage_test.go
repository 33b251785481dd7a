package handlers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db/localpg"
	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/handlers/redirects"
)

// maxPropagation is the promise: a change made on one instance (or in
// psql) stops redirects on every instance within a second.
const maxPropagation = time.Second

// within reports how long it took until url answered status, failing the
// test if that took longer than maxPropagation.
func within(t *testing.T, url string, status int) {
	t.Helper()
	start := time.Now()
	if !pollUntil(3*time.Second, func() bool { resp, _ := request(t, "GET", url, iPhone); return resp.StatusCode == status }) {
		t.Fatalf("%s never answered %d", url, status)
	}
	if took := time.Since(start); took > maxPropagation {
		t.Errorf("%s answered %d only after %s, want within %s", url, status, took, maxPropagation)
	}
}

// Two instances over one database, each with its own cache. Entries are
// trusted for an hour here, so only the change notifications can make the
// second instance notice in time.
func TestChangesReachEveryInstanceWithinOneSecond(t *testing.T) {
	t.Parallel()
	url := migratedDatabase(t)
	hourTTL := func(c *handlers.Config) { c.Redirects.CacheTTL = time.Hour }
	a, b := newTestAppOn(t, url, hourTTL), newTestAppOn(t, url, hourTTL)
	a.waitForFeed(t)
	b.waitForFeed(t)

	t.Run("deactivated through the API of the other instance", func(t *testing.T) {
		l := a.link(t, "https://sale.example.com/")
		warm(t, b, l.Slug)
		req, _ := http.NewRequest("POST", a.URL+"/api/v1/links/"+l.Slug+"/deactivate", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		if status, _ := doJSON(t, req); status != http.StatusOK {
			t.Fatalf("deactivate: %d", status)
		}
		within(t, b.URL+"/"+l.Slug, http.StatusGone)
		within(t, a.URL+"/"+l.Slug, http.StatusGone)
	})
	t.Run("deactivated by hand in SQL", func(t *testing.T) {
		l := a.link(t, "https://manual.example.com/")
		warm(t, b, l.Slug)
		a.Store.DB().MustExec(`UPDATE short_links SET is_active = false WHERE slug = $1`, l.Slug)
		within(t, b.URL+"/"+l.Slug, http.StatusGone)
	})
	t.Run("created after a cached 404", func(t *testing.T) {
		if resp, _ := request(t, "GET", b.URL+"/Later1", iPhone); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404 before the link exists", resp.StatusCode)
		}
		a.Store.DB().MustExec(`INSERT INTO short_links (slug, destination_url) VALUES ('Later1', 'https://later.example.com/')`)
		within(t, b.URL+"/Later1", http.StatusFound)
	})
}

// warm makes sure r answers slug from its cache, and returns how many
// redirects that took. (The notification of the link's creation may
// arrive after the first request and evict it, hence the loop.)
func warm(t *testing.T, r *testApp, slug string) (redirects int64) {
	t.Helper()
	ok := pollUntil(2*time.Second, func() bool {
		hits := r.H.RedirectStats().CacheHits
		if resp, _ := request(t, "GET", r.URL+"/"+slug, iPhone); resp.StatusCode != http.StatusFound {
			t.Fatalf("warming %s: status %d", slug, resp.StatusCode)
		}
		redirects++
		return r.H.RedirectStats().CacheHits > hits
	})
	if !ok {
		t.Fatalf("%s is not answered from the cache", slug)
	}
	return redirects
}

// Database down: cached links keep redirecting, their clicks wait in
// memory while flushes fail, and once the database is back every click
// lands, exactly once, with no restart.
func TestClicksSurviveADatabaseOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster, err := localpg.StartTemp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	url := cluster.URL("postgres")
	migrateDatabase(t, url)
	app := newTestAppOn(t, url)
	hot, other := app.link(t, "https://hot.example.com/"), app.link(t, "https://other.example.com/")
	served := map[string]int64{}
	var outageTaps int64 // redirects served while the database is down
	redirect := func(slug string) {
		t.Helper()
		resp, _ := request(t, "GET", app.URL+"/"+slug, iPhone)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: status %d, want 302", slug, resp.StatusCode)
		}
		served[slug]++
		outageTaps++
	}
	app.waitForFeed(t)
	app.drainFeed(t) // the links' creation notifications must not evict them later
	served[hot.Slug] = warm(t, app, hot.Slug)
	served[other.Slug] = warm(t, app, other.Slug)
	if !pollUntil(5*time.Second, func() bool { return app.H.RedirectStats().PendingClicks == 0 }) {
		t.Fatal("first clicks never flushed")
	}

	if err := cluster.StopServer(); err != nil {
		t.Fatal(err)
	}
	outageTaps = 0
	for range 20 {
		redirect(hot.Slug)
	}
	redirect(other.Slug)
	// Past the short TTL that applies without the change feed, the cached
	// answers expire, and are served anyway because the database cannot
	// be asked: tap until one is, then tap more.
	if !pollUntil(redirects.FeedDownTTL+10*time.Second, func() bool {
		redirect(hot.Slug)
		return app.H.RedirectStats().StaleServed > 0
	}) {
		t.Fatal("no expired answer was served while the database was down")
	}
	for range 10 {
		redirect(hot.Slug)
	}
	if resp, _ := request(t, "GET", app.URL+"/Unseen1", iPhone); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("uncached slug during the outage: status %d, want 503", resp.StatusCode)
	}
	if !pollUntil(5*time.Second, func() bool { return app.H.RedirectStats().FlushFailures > 0 }) {
		t.Fatal("no flush failed while the database was down")
	}
	if st := app.H.RedirectStats(); st.PendingClicks != outageTaps {
		t.Errorf("during the outage: %+v; want %d pending clicks", st, outageTaps)
	}

	if err := cluster.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	if !pollUntil(15*time.Second, func() bool { return app.H.RedirectStats().PendingClicks == 0 }) {
		t.Fatalf("clicks not flushed after the database came back: %+v", app.H.RedirectStats())
	}
	redirect(hot.Slug) // and serving goes on
	app.shutdown(t)
	for slug, n := range served {
		if clicks, _, daily := app.counts(t, slug); clicks != n || daily != n {
			t.Errorf("%s: click_count %d, daily %d; want %d", slug, clicks, daily, n)
		}
	}
}

// Memory for waiting clicks is bounded: past MaxPending distinct links,
// a click is dropped (the visitor is still redirected), counted and
// logged, never silently lost; clicks on links already waiting still count.
func TestPendingClicksAreBounded(t *testing.T) {
	t.Parallel()
	app := newTestAppOn(t, migratedDatabase(t), func(c *handlers.Config) {
		c.Redirects.MaxPending = 2
		c.Redirects.FlushInterval = time.Hour // nothing is written until Close
	})
	l1, l2, l3 := app.link(t, "https://one.example.com/"), app.link(t, "https://two.example.com/"), app.link(t, "https://three.example.com/")
	for _, slug := range []string{l1.Slug, l2.Slug, l3.Slug, l1.Slug} {
		if resp, _ := request(t, "GET", app.URL+"/"+slug, iPhone); resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: status %d", slug, resp.StatusCode)
		}
	}
	st := app.H.RedirectStats()
	if st.DroppedClicks != 1 || st.PendingRows != 2 || st.Redirects != 4 {
		t.Errorf("stats %+v: want 1 dropped, 2 rows pending, 4 redirects", st)
	}
	app.shutdown(t)
	for slug, want := range map[string]int64{l1.Slug: 2, l2.Slug: 1, l3.Slug: 0} {
		if clicks, _, _ := app.counts(t, slug); clicks != want {
			t.Errorf("%s: click_count %d, want %d", slug, clicks, want)
		}
	}
}
