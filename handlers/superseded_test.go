package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// plantDuplicate makes the incident happen again: without the unique
// index, a second active link to destination, created after first.
func (a *testApp) plantDuplicate(t *testing.T, slug, destination string) {
	t.Helper()
	a.Store.DB().MustExec(`DROP INDEX IF EXISTS short_links_one_active_idx`)
	a.Store.DB().MustExec(`INSERT INTO short_links (slug, destination_url, created_at) VALUES ($1, $2, clock_timestamp() + interval '1 second')`, slug, destination)
}

// restoreIndex recreates the unique index after a heal.
func (a *testApp) restoreIndex(t *testing.T) {
	t.Helper()
	a.Store.DB().MustExec(`CREATE UNIQUE INDEX IF NOT EXISTS short_links_one_active_idx ON short_links (destination_hash, link_type) WHERE is_active`)
}

// waitForHeal waits until the latest heal is done, as the API reports it.
func (a *testApp) waitForHeal(t *testing.T) {
	t.Helper()
	var last any
	if !pollUntil(20*time.Second, func() bool {
		_, h := a.api(t, "GET", "/api/v1/health/duplicates", nil)
		heal, _ := h["heal"].(map[string]any)
		last = h["heal"]
		return heal != nil && heal["state"] == "done" && heal["running"] == false
	}) {
		t.Fatalf("the heal did not finish: %v", last)
	}
}

// linkState reads what a user sees of a link through the API.
func (a *testApp) linkState(t *testing.T, slug string) map[string]any {
	t.Helper()
	status, body := a.api(t, "GET", "/api/v1/links/"+slug, nil)
	if status != http.StatusOK {
		t.Fatalf("GET link %s: %d", slug, status)
	}
	return body
}

// A duplicate healed through the dashboard keeps redirecting exactly like
// the link it was merged into, its taps (not prefetches) land on that link,
// and once an admin retires the survivor both answer 410.
func TestSupersededLinkRedirectsAndCountsOnSurvivor(t *testing.T) {
	t.Parallel()
	dbURL := migratedDatabase(t)
	app := newTestAppOn(t, dbURL)
	other := newTestAppOn(t, dbURL) // a second instance, told only by the change feed
	other.waitForFeed(t)
	const dest = "https://bakery.example.com/menu"
	survivor := app.link(t, dest)
	app.plantDuplicate(t, "WGKLs4", dest)

	// Before the heal the duplicate counts its own taps.
	for range 3 {
		if resp, _ := request(t, "GET", app.URL+"/WGKLs4", iPhone); resp.StatusCode != http.StatusFound {
			t.Fatalf("duplicate before heal: %d", resp.StatusCode)
		}
	}
	if !pollUntil(5*time.Second, func() bool { c, _, _ := app.counts(t, "WGKLs4"); return c == 3 }) {
		t.Fatal("taps before the heal not flushed")
	}
	request(t, "GET", other.URL+"/WGKLs4", iPhone) // other caches the pre-heal answer
	const before = 4
	if !pollUntil(5*time.Second, func() bool { c, _, _ := app.counts(t, "WGKLs4"); return c == before }) {
		t.Fatal("the other instance's tap before the heal not flushed")
	}

	// Heal through the dashboard: a confirmation page (listing the groups
	// of the last check), then the POST, which starts the heal in the
	// background and comes back at once.
	app.checkDuplicates(t)
	b := app.signedIn(t)
	_, confirm := b.get("/admin/health/heal")
	if got := confirm.Find("#heal-groups").Text(); !strings.Contains(got, "WGKLs4") || !strings.Contains(got, survivor.Slug) {
		t.Fatalf("confirmation page does not show the group: %q", got)
	}
	resp := b.submit(confirm, "#heal-form")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "msg=heal-started") {
		t.Fatalf("heal: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	app.waitForHeal(t)
	// The heal restored the database rule too, so links can be made again.
	if status, _ := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://after-heal.example.com/", "link_type": "campaign"}); status != http.StatusCreated {
		t.Fatalf("creating a link after the heal: %d, want 201 (the unique index is back)", status)
	}
	if s := app.linkState(t, "WGKLs4"); s["superseded_by"] != survivor.Slug || s["is_active"] != false {
		t.Fatalf("after heal: superseded_by %v, is_active %v", s["superseded_by"], s["is_active"])
	}
	if s := app.linkState(t, survivor.Slug); s["superseded_by"] != nil {
		t.Fatalf("survivor superseded_by = %v, want null", s["superseded_by"])
	}

	// Both instances redirect the merged slug exactly like the survivor,
	// once the heal's notifications have reached their caches (a tap on a
	// stale entry would count for the merged link).
	app.drainFeed(t)
	other.drainFeed(t)
	want, _ := request(t, "GET", app.URL+"/"+survivor.Slug, iPhone)
	for _, inst := range []*testApp{app, other} {
		if !pollUntil(time.Second, func() bool {
			resp, _ := request(t, "GET", inst.URL+"/WGKLs4", iPhone)
			return resp.StatusCode == want.StatusCode && resp.Header.Get("Location") == want.Header.Get("Location")
		}) {
			t.Fatal("merged slug does not redirect like its survivor")
		}
	}
	// A browser prefetch is a preview, whichever header announces it.
	for _, h := range [][2]string{{"Sec-Purpose", "prefetch"}, {"Sec-Purpose", "prefetch;prerender"}, {"Purpose", "prefetch"}, {"X-Moz", "prefetch"}, {"X-Purpose", "preview"}} {
		req, _ := http.NewRequest("GET", app.URL+"/WGKLs4", nil)
		req.Header.Set("User-Agent", iPhone)
		req.Header.Set(h[0], h[1])
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	app.shutdown(t)
	other.shutdown(t)

	var got struct {
		SurvivorClicks, SurvivorPreviews, DupClicks, DupForwarded int64
	}
	err := app.Store.DB().QueryRow(`SELECT sc.click_count, sc.preview_count, dc.click_count, dc.forwarded_clicks
		FROM short_links s JOIN link_counters sc ON sc.link_id = s.id, short_links d JOIN link_counters dc ON dc.link_id = d.id
		WHERE s.slug = $1 AND d.slug = 'WGKLs4'`, survivor.Slug).
		Scan(&got.SurvivorClicks, &got.SurvivorPreviews, &got.DupClicks, &got.DupForwarded)
	if err != nil {
		t.Fatal(err)
	}
	// Taps after the heal: 1 on the survivor itself (want), and 2 (one per
	// instance, after the polls' first success; polls may have tapped more).
	if got.DupClicks != before || got.DupForwarded < 2 || got.SurvivorClicks != got.DupForwarded+1 || got.SurvivorPreviews != 5 {
		t.Errorf("after the merge: %+v; want the duplicate frozen at %d clicks, its forwarded taps all counted on the survivor (plus its own 1), 5 previews", got, before)
	}
}

// Retiring the survivor retires what was merged into it, on every
// instance within a second; an admin can also retire a merged link alone.
func TestRetiredSurvivorTakesItsMergedLinksDown(t *testing.T) {
	t.Parallel()
	dbURL := migratedDatabase(t)
	app := newTestAppOn(t, dbURL)
	other := newTestAppOn(t, dbURL)
	other.waitForFeed(t)
	survivor := app.link(t, "https://florist.example.com/")
	app.plantDuplicate(t, "dupAA1", survivor.DestinationURL)
	app.plantDuplicate(t, "dupBB2", survivor.DestinationURL)
	if _, err := app.Store.Heal(context.Background(), db.HealOptions{}); err != nil {
		t.Fatal(err)
	}
	app.restoreIndex(t)
	for _, slug := range []string{"dupAA1", "dupBB2"} {
		if !pollUntil(time.Second, func() bool {
			r, _ := request(t, "GET", other.URL+"/"+slug, iPhone)
			return r.StatusCode == http.StatusFound
		}) {
			t.Fatalf("%s does not redirect after the heal", slug)
		}
	}

	// The admin retires one merged link on its page.
	b := app.signedIn(t)
	_, page := b.get("/admin/links/dupBB2")
	if got := page.Find("#merged-into").Text(); !strings.Contains(got, "merged into "+survivor.Slug) {
		t.Errorf("detail page says %q, want merged into %s", got, survivor.Slug)
	}
	if resp := b.submit(page, `form[action="/admin/links/dupBB2/deactivate"]`); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retire: %d", resp.StatusCode)
	}
	if !pollUntil(time.Second, func() bool {
		r, _ := request(t, "GET", other.URL+"/dupBB2", iPhone)
		return r.StatusCode == http.StatusGone
	}) {
		t.Error("a retired merged link still redirects on another instance after 1 s")
	}
	if s := app.linkState(t, "dupBB2"); s["superseded_by"] != nil {
		t.Errorf("retired link superseded_by = %v, want null", s["superseded_by"])
	}

	// Retiring the survivor takes dupAA1 down everywhere within a second.
	if status, _ := app.api(t, "POST", "/api/v1/links/"+survivor.Slug+"/deactivate", nil); status != http.StatusOK {
		t.Fatalf("deactivate survivor: %d", status)
	}
	start := time.Now()
	if !pollUntil(time.Second, func() bool {
		r, _ := request(t, "GET", other.URL+"/dupAA1", iPhone)
		return r.StatusCode == http.StatusGone
	}) {
		t.Error("a link merged into a retired one still redirects after 1 s")
	}
	t.Logf("merged link answered 410 %s after its survivor was retired", time.Since(start).Round(time.Millisecond))
	// And back when the survivor is reactivated.
	if status, _ := app.api(t, "POST", "/api/v1/links/"+survivor.Slug+"/activate", nil); status != http.StatusOK {
		t.Fatalf("reactivate survivor: %d", status)
	}
	if !pollUntil(time.Second, func() bool {
		r, _ := request(t, "GET", other.URL+"/dupAA1", iPhone)
		return r.StatusCode == http.StatusFound
	}) {
		t.Error("merged link does not redirect again once its survivor is reactivated")
	}
}
