package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// xssDestination would run a script if any page printed it unescaped.
const xssDestination = `https://evil.example.com/"><script>alert(1)</script>`

func TestLinkPagesRequireSession(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	l := app.addLink(t, "https://bakery.example.com/", "site_preview")
	b := app.browser(t)
	for _, path := range []string{"/admin/links", "/admin/links?q=bakery", "/admin/links.csv", "/admin/links/" + l.Slug, "/admin/health"} {
		resp, body := b.getRaw(path)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login?next=") {
			t.Errorf("%s without session: %d %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
		if strings.Contains(body, "bakery") {
			t.Errorf("%s without session leaked link data", path)
		}
	}
	// A valid CSRF token is not a session.
	_, doc := b.get("/admin/login")
	resp, _ := b.post("/admin/links/"+l.Slug+"/deactivate", url.Values{"csrf_token": {csrf(t, doc)}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") || !app.isActive(t, l.Slug) {
		t.Errorf("deactivate without session: %d %q, active=%t", resp.StatusCode, resp.Header.Get("Location"), app.isActive(t, l.Slug))
	}
}

func TestLinkListingShowsLinks(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, biz := app.api(t, "POST", "/api/v1/businesses", map[string]any{"name": "Rosa's Bakery", "site_url": "https://rosas.example.com/"})
	_, link := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://rosas.example.com/" + strings.Repeat("long-path/", 12), "business_id": biz["id"]})
	slug := link["slug"].(string)
	app.Store.DB().MustExec(`UPDATE short_links SET click_count = 12, preview_count = 3 WHERE slug = $1`, slug)

	b := app.signedIn(t)
	resp, doc := b.get("/admin/links")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("listing: %d", resp.StatusCode)
	}
	row := doc.Find("tr#link-" + slug)
	cells := row.Find("td")
	dest := row.Find(".dest")
	checks := map[string]bool{
		"slug links to the detail page": row.Find(`a[href="/admin/links/`+slug+`"]`).Text() == slug,
		"short URL":                     strings.TrimSpace(row.Find(".short-url").Text()) == app.URL+"/"+slug,
		"destination shortened to 80":   len([]rune(dest.Text())) == 80 && strings.HasSuffix(dest.Text(), "…"),
		"full destination in title":     dest.AttrOr("title", "") == link["destination_url"],
		"type":                          cells.Eq(2).Text() == "site_preview",
		"business":                      cells.Eq(3).Text() == "Rosa's Bakery",
		"active badge":                  row.Find(".badge.ok").Text() == "active",
		"clicks":                        cells.Eq(5).Text() == "12",
		"previews":                      cells.Eq(6).Text() == "3",
		"created":                       row.Find("time").AttrOr("datetime", "") != "",
		"total":                         strings.Contains(doc.Find("#total").Text(), "1 links match"),
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("listing row: %s is wrong: %s", what, goquery.NewDocumentFromNode(row.Nodes[0]).Text())
		}
	}
}

// The payload reaches the listing, the detail page and the dashboard, and
// each shows it as text.
func TestDestinationsAreEscaped(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.rawLink(t, "xss001", xssDestination)
	app.rawLink(t, "js0001", "javascript:alert(1)")
	b := app.signedIn(t)
	// The search text is reflected into the form as well.
	search := "/admin/links?q=" + url.QueryEscape(`"><script>alert(1)</script>`)
	for _, path := range []string{"/admin/links", "/admin/links/xss001", search} {
		resp, body := b.getRaw(path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if strings.Contains(body, "<script>alert(1)</script>") || strings.Contains(body, `"><script>`) {
			t.Errorf("%s prints the destination unescaped", path)
		}
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
		if n := doc.Find("script:not([src])").Length(); n != 0 {
			t.Errorf("%s has %d inline scripts", path, n)
		}
		if !strings.Contains(doc.Find("main").Text(), xssDestination) {
			t.Errorf("%s does not show the destination as text", path)
		}
		doc.Find(`a[href^="javascript:"]`).Each(func(_ int, a *goquery.Selection) {
			t.Errorf("%s links to %s", path, a.AttrOr("href", ""))
		})
	}
}

func TestDeactivateAndReactivateWithForms(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	l := app.addLink(t, "https://gym.example.com/", "site_preview")
	b := app.signedIn(t)
	_, doc := b.get("/admin/links?type=site_preview")
	// Deactivate asks first, on a page of its own (no JavaScript needed).
	confirm, ok := doc.Find(`tr#link-` + l.Slug + ` a.danger`).Attr("href")
	if !ok || !strings.HasPrefix(confirm, "/admin/links/"+l.Slug+"/deactivate?") {
		t.Fatalf("the listing's Deactivate leads to %q, want the confirmation page", confirm)
	}
	_, doc = b.get(confirm)
	if !app.isActive(t, l.Slug) || !strings.Contains(doc.Find("h1").Text(), "Deactivate link "+l.Slug+"?") {
		t.Fatalf("the confirmation page changed the link or does not ask: %q", doc.Find("h1").Text())
	}
	resp := b.submit(doc, `form[action="/admin/links/`+l.Slug+`/deactivate"]`)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/links?type=site_preview&") {
		t.Fatalf("deactivate: %d %q, want 303 back to the filtered listing", resp.StatusCode, loc)
	}
	if app.isActive(t, l.Slug) {
		t.Fatal("link still active after deactivate")
	}
	_, doc = b.get(loc)
	if msg := doc.Find(".flash.ok").Text(); !strings.Contains(msg, l.Slug+" is deactivated") {
		t.Errorf("flash after deactivate: %q", msg)
	}
	if badge := doc.Find("tr#link-" + l.Slug + " .badge").Text(); badge != "inactive" {
		t.Errorf("badge after deactivate: %q", badge)
	}

	// Reactivate from the detail page; it comes back to the detail page.
	_, doc = b.get("/admin/links/" + l.Slug)
	resp = b.submit(doc, `form[action="/admin/links/`+l.Slug+`/activate"]`)
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/admin/links/"+l.Slug+"?") || !app.isActive(t, l.Slug) {
		t.Errorf("reactivate: %d %q active=%t", resp.StatusCode, loc, app.isActive(t, l.Slug))
	}
}

func TestReactivationRefusedWhenAnotherLinkIsActive(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	old := app.addLink(t, "https://dentist.example.com/", "site_preview")
	if _, err := app.Store.Deactivate(context.Background(), old.Slug); err != nil {
		t.Fatal(err)
	}
	current := app.addLink(t, "https://dentist.example.com/", "site_preview")
	b := app.signedIn(t)
	_, doc := b.get("/admin/links")
	// The listing does not offer what would fail; it names the active link.
	row := doc.Find("tr#link-" + old.Slug)
	if row.Find(`form[action$="/activate"]`).Length() != 0 || row.Find(`a[href="/admin/links/`+current.Slug+`"]`).Length() != 1 ||
		!strings.Contains(row.Text(), "Can’t reactivate") {
		t.Errorf("the listing offers Reactivate for %s, or does not say why not: %q", old.Slug, strings.Join(strings.Fields(row.Text()), " "))
	}
	// A form posted anyway (an old tab) is refused with the reason.
	resp, _ := b.post("/admin/links/"+old.Slug+"/activate", url.Values{"csrf_token": {csrf(t, doc)}, "return": {"/admin/links"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refused reactivation: %d, want 303 back with a message", resp.StatusCode)
	}
	_, doc = b.get(resp.Header.Get("Location"))
	want := "another active link already points to this destination (slug " + current.Slug + ")"
	if msg := doc.Find(".flash.bad").Text(); !strings.Contains(msg, want) {
		t.Errorf("message %q, want it to contain %q", msg, want)
	}
	if app.isActive(t, old.Slug) || !app.isActive(t, current.Slug) {
		t.Error("the refused reactivation changed a link")
	}
	// The detail page of the old link points at the one that replaced it.
	_, doc = b.get("/admin/links/" + old.Slug)
	if got := doc.Find(`a[href="/admin/links/` + current.Slug + `"]`).Length(); got == 0 {
		t.Error("the history link's page does not name the active link")
	}
}

func TestLinkFormsRequireCSRFToken(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	l := app.addLink(t, "https://florist.example.com/", "site_preview")
	b := app.signedIn(t)
	for name, form := range map[string]url.Values{
		"no token":     {"return": {"/admin/links"}},
		"forged token": {"csrf_token": {"forged"}},
	} {
		resp, _ := b.post("/admin/links/"+l.Slug+"/deactivate", form)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	if !app.isActive(t, l.Slug) {
		t.Error("a POST without a valid CSRF token deactivated the link")
	}
}

func TestLinkFormsStayInsideTheConsole(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	l := app.addLink(t, "https://vet.example.com/", "site_preview")
	b := app.signedIn(t)
	cases := map[string]string{
		"https://evil.example.com/admin/links": "/admin/links?",
		"//evil.example.com/admin/links":       "/admin/links?",
		"/admin/logout":                        "/admin/links?",
		"/admin/links/../logout":               "/admin/links?",
		"/admin/links?type=sms&msg=owned":      "/admin/links?type=sms&msg=deactivated&",
		"/admin/links/" + l.Slug:               "/admin/links/" + l.Slug + "?",
	}
	for ret, want := range cases {
		resp, _ := b.post("/admin/links/"+l.Slug+"/deactivate", url.Values{"csrf_token": {b.token}, "return": {ret}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, want) {
			t.Errorf("return %q: %d %q, want a Location starting %q", ret, resp.StatusCode, loc, want)
		}
	}
	for _, slug := range []string{"nosuch", "bad-slug!"} {
		if resp, _ := b.post("/admin/links/"+slug+"/activate", url.Values{"csrf_token": {b.token}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("activate %s: %d, want 404", slug, resp.StatusCode)
		}
	}
}

// Flash messages come from a fixed set; the URL only picks one and names
// a slug, which must look like one.
func TestFlashMessagesAreFixed(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.signedIn(t)
	cases := map[string]string{
		"?msg=conflict&slug=abc123&other=xyz789":                         "Link abc123 was not reactivated: another active link already points to this destination (slug xyz789).",
		"?msg=conflict&slug=abc123&other=" + url.QueryEscape("<b>x</b>"): "Link abc123 was not reactivated: another active link already points to this destination.",
		"?msg=You+have+been+hacked&slug=abc123":                          "",
		"?msg=deactivated&slug=" + url.QueryEscape("<script>"):           "",
	}
	for query, want := range cases {
		_, doc := b.get("/admin/links" + query)
		got := strings.TrimSpace(doc.Find(".flash").Text())
		if want == "" && got != "" || want != "" && !strings.HasPrefix(got, want) {
			t.Errorf("%s: flash %q, want %q", query, got, want)
		}
	}
}

func TestLinkDetailPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	l := app.addLink(t, "https://bakery.example.com/menu", "campaign")
	app.Store.DB().MustExec(`UPDATE short_links SET click_count = 114, preview_count = 9 WHERE id = $1`, l.ID)
	app.Store.DB().MustExec(`INSERT INTO link_clicks_daily (link_id, day, clicks, previews) VALUES
		($1, ((now() AT TIME ZONE 'UTC')::date), 10, 2), ($1, ((now() AT TIME ZONE 'UTC')::date) - 2, 5, 0), ($1, ((now() AT TIME ZONE 'UTC')::date) - 40, 99, 7)`, l.ID)
	var today, twoDaysAgo string
	app.Store.DB().QueryRow(`SELECT ((now() AT TIME ZONE 'UTC')::date)::text, (((now() AT TIME ZONE 'UTC')::date) - 2)::text`).Scan(&today, &twoDaysAgo)

	b := app.signedIn(t)
	resp, doc := b.get("/admin/links/" + l.Slug)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("detail: %d", resp.StatusCode)
	}
	if v := doc.Find("input#short-url").AttrOr("value", ""); v != app.URL+"/"+l.Slug {
		t.Errorf("short URL field %q", v)
	}
	if doc.Find(`button[data-copy="short-url"]`).Length() != 1 {
		t.Error("no copy button for the short URL")
	}
	stats := map[string]string{"#clicks-total": "114", "#previews-total": "9", "#clicks-30d": "15", "#previews-30d": "2"}
	for sel, want := range stats {
		if got := doc.Find(sel).Text(); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	bars := doc.Find("svg.chart rect.bar")
	if bars.Length() != 30 {
		t.Fatalf("%d bars, want 30", bars.Length())
	}
	heights := map[string]string{}
	bars.Each(func(_ int, bar *goquery.Selection) { heights[bar.AttrOr("data-day", "")] = bar.AttrOr("height", "") })
	if bars.Last().AttrOr("data-day", "") != today {
		t.Errorf("last bar is %s, want today %s", bars.Last().AttrOr("data-day", ""), today)
	}
	full := heights[today]
	if full == "0" || heights[twoDaysAgo] == "0" || fmt.Sprint(atoi(full)/2) != heights[twoDaysAgo] {
		t.Errorf("bar heights: today %s (10 clicks), two days ago %s (5 clicks); want the second half the first", full, heights[twoDaysAgo])
	}
	zero := 0
	for _, h := range heights {
		if h == "0" {
			zero++
		}
	}
	if zero != 28 {
		t.Errorf("%d empty bars, want 28", zero)
	}
	if top := doc.Find("svg.chart text.y-label").Last().Text(); top != "10" {
		t.Errorf("top of the scale is %q, want 10", top)
	}
	for _, path := range []string{"/admin/links/nosuch", "/admin/links/bad-slug!"} {
		if resp, _ := b.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}
