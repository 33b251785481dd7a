package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/shortlinks/shortlinks/db"
)

// statValue reads a figure of the dashboard.
func statValue(t *testing.T, doc *goquery.Document, id string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(doc.Find("#" + id + " .value").Text()))
	if err != nil {
		t.Fatalf("#%s: %v", id, err)
	}
	return n
}

func TestHealthDashboardTurnsRedOnDuplicates(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	old := app.addLink(t, xssDestination, "site_preview")
	app.Store.Deactivate(context.Background(), old.Slug)
	current := app.addLink(t, xssDestination, "site_preview")
	app.addLink(t, "https://other.example.com/", "campaign")
	app.checkDuplicates(t)
	b := app.signedIn(t)

	resp, doc := b.get("/admin/health")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
	status := doc.Find("#duplicate-status")
	if !status.HasClass("ok") || !strings.Contains(status.Text(), "no destination has more than one active link") {
		t.Errorf("healthy database: status %q (class %q), want green at 0", status.Text(), status.AttrOr("class", ""))
	}
	if doc.Find("#unique-index .badge.ok").Length() != 1 || doc.Find("#duplicate-groups").Length() != 0 {
		t.Error("healthy database: index not shown present, or groups listed")
	}
	figures := map[string]int{"active-links": 2, "inactive-links": 1, "history-links": 1, "conflicts-since-start": 0}
	for id, want := range figures {
		if got := statValue(t, doc, id); got != want {
			t.Errorf("%s = %d, want %d", id, got, want)
		}
	}
	panel := doc.Find("#health-panel")
	if panel.AttrOr("hx-get", "") != "/admin/health" || !strings.Contains(panel.AttrOr("hx-trigger", ""), "every") ||
		panel.AttrOr("hx-select", "") != "#health-panel" || panel.Find(`a[href="/admin/health"]`).Length() != 1 {
		t.Error("the panel neither polls itself nor offers a refresh link")
	}

	// Break the guarantee the way an operator could: drop the index, insert.
	app.Store.DB().MustExec(`DROP INDEX ` + db.UniqueIndexName)
	app.rawLink(t, "dup001", xssDestination)
	app.checkDuplicates(t)

	resp, body := b.getRaw("/admin/health")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<script>alert(1)</script>") {
		t.Fatalf("dashboard with duplicates: %d, or the destination is unescaped", resp.StatusCode)
	}
	doc, _ = goquery.NewDocumentFromReader(strings.NewReader(body))
	status = doc.Find("#duplicate-status")
	if !status.HasClass("bad") || !strings.Contains(status.Text(), "1 destination has more than one active link") ||
		!strings.Contains(status.Text(), "shortlinks check-duplicates") || status.Find(`#heal-action a[href="/admin/health/heal"]`).Length() != 1 {
		t.Errorf("with a duplicate: status %q (class %q), want red with the next steps (the heal action and the CLI)", status.Text(), status.AttrOr("class", ""))
	}
	if doc.Find("#unique-index .badge.bad").Length() != 1 {
		t.Error("the missing index is not shown")
	}
	group := doc.Find("#duplicate-groups tbody tr")
	if group.Length() != 1 || group.Find(".dest").AttrOr("title", "") != xssDestination ||
		group.Find(`a[href="/admin/links/`+current.Slug+`"]`).Length() != 1 || group.Find(`a[href="/admin/links/dup001"]`).Length() != 1 {
		t.Errorf("offending group not listed with its slugs: %q", group.Text())
	}

	// The JSON API reports the same figures.
	_, api := app.api(t, "GET", "/api/v1/health/duplicates", nil)
	if api["duplicate_groups"] != 1.0 || api["unique_index_present"] != false || api["active_links"] != float64(statValue(t, doc, "active-links")) {
		t.Errorf("API disagrees with the dashboard: %v", api)
	}
}

// A get-or-create that lost a race shows up on the dashboard, and the
// persisted total survives a restart of the handlers.
func TestHealthDashboardCountsResolvedRaces(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	loseRace(t, app, "https://race.example.com/")
	b := app.signedIn(t)
	_, doc := b.get("/admin/health")
	if since, total := statValue(t, doc, "conflicts-since-start"), statValue(t, doc, "conflicts-total"); since != 1 || total != 1 {
		t.Errorf("after one lost race: %d since start, %d in total; want 1 and 1", since, total)
	}
	if _, api := app.api(t, "GET", "/api/v1/health/duplicates", nil); api["conflicts_resolved"] != 1.0 || api["conflicts_resolved_total"] != 1.0 {
		t.Errorf("API: %v since start, %v in total; want 1 and 1", api["conflicts_resolved"], api["conflicts_resolved_total"])
	}
	if err := app.RT.Stop(context.Background()); err != nil { // persists the count
		t.Fatal(err)
	}
	restarted := db.New(app.Store.DB(), db.Options{})
	if total, err := restarted.ConflictsTotal(context.Background()); err != nil || total != 1 {
		t.Errorf("persisted total after Close: %d %v, want 1", total, err)
	}
}

// loseRaceID is the X-Request-Id of loseRace's API call.
const loseRaceID = "lose-race-1"

// loseRace makes one get-or-create through the API resolve through the
// conflict path: it meets another transaction's uncommitted insert of the
// destination, waits on it, and finds it committed.
func loseRace(t *testing.T, app *testApp, url string) {
	t.Helper()
	tx := app.Store.DB().MustBegin()
	defer tx.Rollback()
	tx.MustExec(`INSERT INTO short_links (slug, destination_url) VALUES ('racewin', $1)`, url)
	type answer struct {
		status int
		err    error
	}
	done := make(chan answer, 1)
	go func() { // no t.Fatal here: the error comes back on done
		req := app.apiRequest("POST", "/api/v1/links", map[string]any{"destination_url": url})
		req.Header.Set("X-Request-Id", loseRaceID)
		status, _, err := tryJSON(req)
		done <- answer{status, err}
	}()
	waited := pollUntil(10*time.Second, func() bool {
		var waiting int
		app.Store.DB().Get(&waiting, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`)
		return waiting > 0
	})
	if !waited {
		tx.Rollback()
		<-done
		t.Fatal("the API call never waited on the pending insert")
	}
	tx.Commit()
	if a := <-done; a.err != nil || a.status != http.StatusOK {
		t.Fatalf("the losing call answered %d (%v), want 200 with the winner's link", a.status, a.err)
	}
}

// The dashboard answers from the last check, but reads the index live: a
// dropped index turns the headline red at once. Its "Check now" button
// runs a new check, whose result the page shows, and the "check started"
// note goes once the check has finished.
func TestHealthCheckButtonRunsACheck(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.checkDuplicates(t)
	b := app.signedIn(t)
	_, doc := b.get("/admin/health")
	checkedAt := doc.Find("#checked-at").AttrOr("datetime", "")

	app.Store.DB().MustExec(`DROP INDEX short_links_one_active_idx`)
	app.Store.DB().MustExec(`INSERT INTO short_links (slug, destination_url) VALUES ('dupaaa', 'https://x.example.com/'), ('dupbbb', 'https://x.example.com/')`)
	_, doc = b.get("/admin/health")
	if doc.Find("#duplicate-status.bad").Length() != 1 || doc.Find("#unique-index .badge.bad").Length() != 1 || doc.Find("#duplicate-groups").Length() != 0 {
		t.Error("before a new check: want a red headline and the index shown missing at once, and the last check's figures (no group)")
	}
	resp := b.submit(doc, `form[action="/admin/health/check"]`)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/health?msg=check-started&requested=") {
		t.Fatalf("check button: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, doc = b.get(resp.Header.Get("Location"))
		if doc.Find("#duplicate-groups tbody tr").Length() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dashboard never showed the check the button started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if checkedAt == "" || doc.Find("#checked-at").AttrOr("datetime", "") == "" {
		t.Error("the dashboard does not say when the check ran")
	}
	if doc.Find("#check-started").Length() != 0 {
		t.Error("the dashboard still says a check has started after it finished")
	}
}
