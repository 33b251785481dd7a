package handlers_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers"
)

// With the unique index dropped, every path that gets or creates a link
// (the links API, the campaign preview, the Shlink create) answers without
// error and without duplicating, and the service says it runs degraded:
// the JSON status, the dashboard's red headline and the /metrics gauge.
func TestCreatesHoldWithoutTheUniqueIndex(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) { c.ShlinkLinkType = handlersSiteType })
	biz := app.addBusiness(t, "Corner Bakery", "Austin", "https://corner.example.com/")
	app.Store.DB().MustExec(`DROP INDEX ` + db.UniqueIndexName)

	const callers = 60
	var wg sync.WaitGroup
	statuses := make(chan int, callers)
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			var req *http.Request
			switch i % 3 {
			case 0:
				req = app.apiRequest("POST", "/api/v1/links", map[string]any{"destination_url": "https://corner.example.com/"})
			case 1:
				req = app.apiRequest("POST", "/api/v1/campaigns/preview-sms", previewBody(biz.ID, "friendly"))
			default:
				req, _ = http.NewRequest("POST", app.URL+"/rest/v3/short-urls", strings.NewReader(`{"longUrl":"https://corner.example.com/","findIfExists":true}`))
				req.Header.Set("X-Api-Key", testToken)
				req.Header.Set("Content-Type", "application/json")
			}
			status, _, err := tryJSON(req)
			if err != nil {
				errs <- err
				return
			}
			statuses <- status
		})
	}
	wg.Wait()
	close(errs)
	close(statuses)
	for err := range errs {
		t.Error(err)
	}
	for s := range statuses {
		if s >= 400 {
			t.Errorf("a create without the index answered %d", s)
		}
	}
	var active int
	if err := app.Store.DB().Get(&active, `SELECT count(*) FROM short_links WHERE destination_url = 'https://corner.example.com/' AND is_active`); err != nil || active != 1 {
		t.Fatalf("%d active links for the destination (%v), want 1", active, err)
	}

	_, h := app.api(t, "GET", "/api/v1/health/duplicates", nil)
	if h["status"] != "degraded" || h["unique_index_present"] != false || h["unique_index_valid"] != false {
		t.Errorf("JSON without the index: %v", h)
	}
	_, doc := app.signedIn(t).get("/admin/health")
	if st := doc.Find("#duplicate-status"); !st.HasClass("bad") || !strings.Contains(st.Text(), "not in force") ||
		st.Find(`a[href="/admin/health/heal"]`).Length() != 1 || !strings.Contains(st.Text(), "shortlinks heal") {
		t.Errorf("dashboard headline without the index: %q (class %q)", st.Text(), st.AttrOr("class", ""))
	}
	if v, _ := value(scrape(t, app), "shortlinks_degraded", nil); v != 1 {
		t.Errorf("shortlinks_degraded = %v, want 1", v)
	}
}

// handlersSiteType makes the Shlink create share the site link's type, so
// the three paths above race for one (destination, link type).
const handlersSiteType = db.LinkTypeSitePreview

// "Heal now" from the console starts the heal and answers at once; the
// dashboard follows its progress and ends in one consistent state: green,
// the index in place, the last heal done with what it merged, no red box.
// Before any check the counts are unknown, never 0.
func TestConsoleHealRunsInTheBackground(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	// The monitor's check at start-up runs once (no other until the
	// interval): wait for it to finish, so that it cannot land after the
	// DELETE below. (Running a check of our own first is not enough: on a
	// loaded machine the monitor's could start after it and find none.)
	app.waitForStartupCheck(t)
	app.Store.DB().MustExec(`DROP INDEX ` + db.UniqueIndexName)
	for i := range 3 {
		app.rawLink(t, "dupaa"+string(rune('a'+i)), "https://split.example.com/")
	}
	app.Store.DB().MustExec(`DELETE FROM duplicate_checks`) // as right after start-up on a big database
	_, h := app.api(t, "GET", "/api/v1/health/duplicates", nil)
	if h["status"] != "degraded" || h["checked_at"] != nil || h["heal"] != nil {
		t.Errorf("before any check, without the index: %v", h)
	}
	b := app.signedIn(t)
	_, doc := b.get("/admin/health")
	if got := doc.Find("#active-links .value").Text(); got != "unknown" {
		t.Errorf("active links before any check: %q, want unknown", got)
	}

	_, confirm := b.get("/admin/health/heal")
	start := time.Now()
	resp := b.submit(confirm, "#heal-form")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "msg=heal-started") {
		t.Fatalf("heal now: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("heal now took %s to answer; it must return at once", took)
	}
	app.waitForHeal(t)
	app.checkDuplicates(t)
	_, h = app.api(t, "GET", "/api/v1/health/duplicates", nil)
	heal, _ := h["heal"].(map[string]any)
	if h["status"] != "ok" || h["duplicate_groups"] != 0.0 || heal["source"] != "console" ||
		heal["destinations_done"] != 1.0 || heal["links_merged"] != 2.0 || h["checked_at"] == nil {
		t.Errorf("after the heal: %v", h)
	}
	_, doc = b.get("/admin/health")
	if !doc.Find("#duplicate-status").HasClass("ok") || doc.Find(".status.bad").Length() != 0 ||
		doc.Find("#unique-index .badge.ok").Length() != 1 || !strings.Contains(doc.Find("#heal-progress").Text(), "2 links merged") {
		t.Errorf("dashboard after the heal: %q", doc.Find("#health-panel").Text())
	}
	var merged int
	if err := app.Store.DB().Get(&merged, `SELECT count(*) FROM heal_merges`); err != nil || merged != 2 {
		t.Errorf("%d merges recorded (%v), want 2", merged, err)
	}
}
