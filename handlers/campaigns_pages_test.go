package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/static"
)

func TestCampaignListing(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	rosa := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	app.addBusiness(t, "Austin Auto", "Dallas", "https://auto.example.com/")
	app.addBusiness(t, "Zen Garden Spa", "Santa Fe", "https://zen.example.com/")
	if _, err := app.Store.CreateBusiness(context.Background(), db.NewBusiness{Name: "Do Not Text Deli", City: "Austin", SiteURL: "https://deli.example.com/", Status: "do_not_contact"}); err != nil {
		t.Fatal(err)
	}
	_, p := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(rosa.ID, "friendly"))
	link, _ := app.Store.FindBySlug(context.Background(), p["slug"].(string))
	if _, err := app.Store.FlushClicks(context.Background(), db.ClickBatch{ID: db.NewBatchID(),
		Rows: []db.ClickRow{{LinkID: link.ID, Day: time.Now(), Clicks: 2}}}); err != nil {
		t.Fatal(err)
	}
	b := app.signedIn(t)

	resp, doc := b.get("/admin/campaigns")
	if resp.StatusCode != 200 {
		t.Fatalf("listing: %d", resp.StatusCode)
	}
	if got := columnTexts(doc, 1); strings.Join(got, "|") != "Austin Auto|Rosa's Bakery|Zen Garden Spa" {
		t.Errorf("listed %v, want the three businesses ready for outreach by name", got)
	}
	row := doc.Find("#campaigns tbody tr").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Text(), "Rosa's Bakery")
	})
	if href, _ := row.Find("td a").Attr("href"); href != "/admin/campaigns/"+rosa.ID {
		t.Errorf("Rosa's row links to %q", href)
	}
	if cells := row.Find("td"); !strings.Contains(cells.Eq(5).Text(), p["short_url"].(string)) || strings.TrimSpace(cells.Eq(6).Text()) != "2" ||
		!strings.Contains(cells.Eq(4).Text(), "https://rosas.example.com/") || strings.TrimSpace(cells.Eq(1).Text()) != "Austin" {
		t.Errorf("Rosa's row %q, want city, site, her short link and 2 clicks", row.Text())
	}
	if zen := doc.Find("#campaigns tbody tr").Last(); !strings.Contains(zen.Text(), "none yet") {
		t.Errorf("Zen has no link yet: %q", zen.Text())
	}

	_, doc = b.get("/admin/campaigns?q=AUSTIN")
	if got := columnTexts(doc, 1); strings.Join(got, "|") != "Austin Auto|Rosa's Bakery" {
		t.Errorf("search by name or city: %v", got)
	}
	if v, _ := doc.Find("input#q").Attr("value"); v != "AUSTIN" {
		t.Errorf("search box keeps the query, has %q", v)
	}
	_, doc = b.get("/admin/campaigns?q=" + "%25")
	if doc.Find("#campaigns").Length() != 0 || !strings.Contains(doc.Find("main").Text(), "No business") {
		t.Error("a % search should match nothing and say so")
	}

	_, doc = b.get("/admin/campaigns?limit=2")
	next, _ := doc.Find(`a[rel="next"]`).Attr("href")
	if got := columnTexts(doc, 1); len(got) != 2 || !strings.HasPrefix(next, "/admin/campaigns?cursor=") || !strings.Contains(next, "limit=2") || !strings.Contains(doc.Find(".pager").Text(), "3 businesses") {
		t.Fatalf("page 1: %v next %q pager %q", got, next, doc.Find(".pager").Text())
	}
	_, doc = b.get(next)
	prev, _ := doc.Find(`a[rel="prev"]`).Attr("href")
	if got := columnTexts(doc, 1); strings.Join(got, "|") != "Zen Garden Spa" || prev == "" || doc.Find(`a[rel="next"]`).Length() != 0 {
		t.Errorf("page 2: %v prev %q", got, prev)
	}
	_, doc = b.get(prev)
	if got := columnTexts(doc, 1); len(got) != 2 || doc.Find(`a[rel="prev"]`).Length() != 0 || doc.Find(`a[rel="next"]`).Length() != 1 {
		t.Errorf("back to page 1: %v", got)
	}
}

func columnTexts(doc *goquery.Document, col int) []string {
	var out []string
	doc.Find("#campaigns tbody tr").Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Find(fmt.Sprintf("td:nth-child(%d)", col)).Text()))
	})
	return out
}

// The preview page works without JavaScript: each tab is a plain link to
// the whole page, and the panel shows exactly the API's message.
func TestCampaignPreviewPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	biz := app.addBusiness(t, "Café Lumière", "Montréal", "https://cafe.example.com/")
	b := app.signedIn(t)
	var slug string
	for _, variant := range []string{"", "friendly", "professional", "urgent"} {
		path := "/admin/campaigns/" + biz.ID
		want := "friendly"
		if variant != "" {
			path += "?variant=" + variant
			want = variant
		}
		resp, doc := b.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		panel := doc.Find("#preview-panel")
		_, api := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(biz.ID, want))
		if v, _ := panel.Attr("data-variant"); v != want {
			t.Errorf("%s: panel shows %q", path, v)
		}
		if u, _ := panel.Attr("data-short-url"); u != api["short_url"] {
			t.Errorf("%s: panel short URL %q, API %v", path, u, api["short_url"])
		}
		if got := panel.Find(".bubble").Text(); got != api["message"] {
			t.Errorf("%s: bubble %q, API message %q", path, got, api["message"])
		}
		if slug == "" {
			slug = api["slug"].(string)
		} else if api["slug"] != slug {
			t.Errorf("%s: slug %v, earlier %s", path, api["slug"], slug)
		}
		fact := func(class string) string { return strings.Join(strings.Fields(panel.Find("dd."+class).Text()), " ") }
		if got, want := fact("characters"), fmt.Sprintf("%v (%v septets)", api["characters"], api["units"]); got != want {
			t.Errorf("%s: characters %q, want %q", path, got, want)
		}
		if fact("encoding") != "GSM-7" || !strings.HasPrefix(fact("segments"), "1 ") || !strings.HasPrefix(fact("cost"), "0.0079 USD") {
			t.Errorf("%s: encoding %q segments %q cost %q", path, fact("encoding"), fact("segments"), fact("cost"))
		}
		active := doc.Find("#variant-tabs a.active")
		if active.Length() != 1 || strings.ToLower(active.Text()) != want {
			t.Errorf("%s: active tab %q", path, active.Text())
		}
		doc.Find("#variant-tabs a").Each(func(_ int, a *goquery.Selection) {
			v := strings.ToLower(a.Text())
			href, _ := a.Attr("href")
			hxGet, _ := a.Attr("hx-get")
			if href != "/admin/campaigns/"+biz.ID+"?variant="+v || hxGet != "/admin/campaigns/"+biz.ID+"/preview?variant="+v {
				t.Errorf("tab %s: href %q hx-get %q", v, href, hxGet)
			}
			// Without JavaScript every tab is a plain link the Tab key reaches;
			// the script adds the ARIA tab roles and the roving tabindex.
			if _, ok := a.Attr("tabindex"); ok {
				t.Errorf("tab %s is served with a tabindex: without JavaScript the keyboard could not reach it", v)
			}
		})
		if doc.Find(".warn").Length() != 0 {
			t.Errorf("%s: a one-segment GSM-7 message shows a warning: %q", path, doc.Find(".warn").Text())
		}
	}
	if n := app.countLinks(t); n != 1 {
		t.Errorf("%d links after viewing every tab, want 1", n)
	}
}

func TestCampaignPreviewWarnings(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	emoji := app.addBusiness(t, "Façade Pros 🏠", "Lyon", "https://facade.example.com/")
	long := app.addBusiness(t, "Northside Plumbing, Heating & Air Conditioning Services", "San Francisco", "https://north.example.com/")
	b := app.signedIn(t)

	_, doc := b.get("/admin/campaigns/" + emoji.ID)
	warn := doc.Find("#preview-panel .warn").Text()
	if !strings.Contains(warn, "UCS-2") || !strings.Contains(warn, "ç") || !strings.Contains(warn, "🏠") || !strings.Contains(warn, "segments") {
		t.Errorf("UCS-2 and multi-segment warnings: %q", warn)
	}
	if enc := doc.Find("#preview-panel .encoding").Text(); enc != "UCS-2" {
		t.Errorf("encoding shown %q", enc)
	}
	_, doc = b.get("/admin/campaigns/" + long.ID + "?variant=professional")
	if warn := doc.Find("#preview-panel .warn").Text(); !strings.Contains(warn, "needs 2 segments") || strings.Contains(warn, "UCS-2") {
		t.Errorf("long GSM-7 message: %q", warn)
	}
	if cost := strings.Join(strings.Fields(doc.Find("#preview-panel .cost").Text()), " "); !strings.HasPrefix(cost, "0.0158 USD") {
		t.Errorf("cost of 2 segments: %q", cost)
	}
}

// htmx asks for the fragment: the panel alone.
func TestCampaignPreviewFragment(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	biz := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	b := app.signedIn(t)
	req, _ := http.NewRequest("GET", app.URL+"/admin/campaigns/"+biz.ID+"/preview?variant=urgent", nil)
	req.Header.Set("HX-Request", "true")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || doc.Find("header.top").Length() != 0 {
		t.Fatalf("fragment: %d, must not carry the page frame", resp.StatusCode)
	}
	if v, _ := doc.Find("#preview-panel").Attr("data-variant"); v != "urgent" {
		t.Errorf("fragment panel variant %q", v)
	}
	if doc.Find("#variant-tabs").Length() != 0 || doc.Find(".bubble").Length() != 1 {
		t.Error("the fragment is the panel alone")
	}
	// Opened directly, the fragment URL sends the browser to the page.
	resp, _ = b.get("/admin/campaigns/" + biz.ID + "/preview?variant=urgent")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/admin/campaigns/"+biz.ID+"?variant=urgent" {
		t.Errorf("direct fragment: %d %q", resp.StatusCode, loc)
	}
	// Without a session htmx is told to navigate to the sign-in page.
	req, _ = http.NewRequest("GET", app.URL+"/admin/campaigns/"+biz.ID+"/preview?variant=urgent", nil)
	req.Header.Set("HX-Request", "true")
	resp, _ = noRedirects.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("HX-Redirect"), "/admin/login") {
		t.Errorf("fragment without session: %d HX-Redirect %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
}

func TestCampaignPageErrors(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	biz := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	b := app.signedIn(t)
	cases := []struct {
		path   string
		status int
		text   string
	}{
		{"/admin/campaigns/" + biz.ID + "?variant=casual", 400, "friendly, professional, urgent"},
		{"/admin/campaigns/00000000-0000-4000-8000-000000000000", 404, "Business not found"},
		{"/admin/campaigns/not-a-uuid", 404, "Business not found"},
		{"/admin/settings", 404, "Page not found"},
		{"/admin/campaigns/" + biz.ID + "/preview?variant=URGENT", 303, ""},
	}
	for _, tc := range cases {
		resp, doc := b.get(tc.path)
		if resp.StatusCode != tc.status || !strings.Contains(doc.Find("main").Text(), tc.text) {
			t.Errorf("%s: %d %q, want %d mentioning %q", tc.path, resp.StatusCode, doc.Find("main").Text(), tc.status, tc.text)
		}
		// An error page keeps the console's header and navigation, and its
		// title says what went wrong.
		if tc.status >= 400 && (doc.Find("header.top nav a").Length() < 3 || !strings.HasPrefix(doc.Find("title").Text(), tc.text) && tc.status == 404) {
			t.Errorf("%s: title %q, %d navigation links; want the navigation and a title saying %q", tc.path, doc.Find("title").Text(), doc.Find("header.top nav a").Length(), tc.text)
		}
	}
	if n := app.countLinks(t); n != 0 {
		t.Errorf("error pages created %d links", n)
	}
}

// The pages must keep working under a strict Content-Security-Policy
// (script-src 'self'; style-src 'self'): no inline script, style or handler.
func TestCampaignPagesAreCSPClean(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	biz := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	b := app.signedIn(t)
	inlineHandler := regexp.MustCompile(`(?i)\son[a-z]+=`)
	for _, path := range []string{"/admin/campaigns", "/admin/campaigns/" + biz.ID + "?variant=urgent"} {
		resp, err := b.client.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := goquery.NewDocumentFromReader(resp.Body)
		resp.Body.Close()
		html, _ := doc.Html()
		if doc.Find("[style]").Length() > 0 || doc.Find("style").Length() > 0 || inlineHandler.MatchString(html) {
			t.Errorf("%s has inline style or event handlers", path)
		}
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if src, ok := s.Attr("src"); !ok || !strings.HasPrefix(src, "/static/") || strings.TrimSpace(s.Text()) != "" {
				t.Errorf("%s: inline or foreign script %q", path, src)
			}
		})
	}
	// htmx is served from our own static files, cacheable for good.
	resp, err := http.Get(app.URL + static.URL("js/htmx.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("htmx: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	for _, path := range []string{"/static/js/", "/static/../static.go", "/static/js/nope.js"} {
		if resp, _ := http.Get(app.URL + path); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// An empty result says so without a pager; a page past the end (an old
// bookmark) sends the browser to the last page.
func TestCampaignsEmptyAndPastTheEnd(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	b := app.signedIn(t)
	_, doc := b.get("/admin/campaigns?q=nothing-matches")
	if doc.Find(".pager").Length() != 0 || !strings.Contains(doc.Find("main").Text(), "No business ready for outreach matches") {
		t.Errorf("empty result: pager %q, text %q", doc.Find(".pager").Text(), doc.Find("main p.card").Text())
	}
	// Past the end (a cursor after the last business, as an old bookmark
	// may hold): no rows, and a way back.
	past := db.Cursor{Order: "name", Key: "zzzz", ID: "ffffffff-ffff-ffff-ffff-ffffffffffff"}.String()
	resp, doc := b.get("/admin/campaigns?cursor=" + past)
	if resp.StatusCode != http.StatusOK || doc.Find(`.pager a[rel="prev"]`).Length() != 1 {
		t.Errorf("past the end: %d, pager %q; want a link back", resp.StatusCode, doc.Find(".pager").Text())
	}
}
