package handlers_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// manyLinks creates 60 site previews (clicks = their number, every third
// inactive) and 5 campaign links.
func manyLinks(t *testing.T, app *testApp) {
	t.Helper()
	for i := range 60 {
		l := app.addLink(t, fmt.Sprintf("https://shop%02d.example.com/", i), "site_preview")
		app.Store.DB().MustExec(`UPDATE short_links SET click_count = $1, is_active = $2 WHERE id = $3`, i, i%3 != 0, l.ID)
	}
	for i := range 5 {
		app.addLink(t, fmt.Sprintf("https://promo%d.example.com/", i), "campaign")
	}
}

func slugsOn(doc *goquery.Document) []string {
	var slugs []string
	doc.Find("table.links tbody tr a.slug").Each(func(_ int, a *goquery.Selection) { slugs = append(slugs, a.Text()) })
	return slugs
}

func TestLinkListingFiltersSortsAndPages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	manyLinks(t, app)
	b := app.signedIn(t)

	_, doc := b.get("/admin/links")
	if n := len(slugsOn(doc)); n != 50 || !strings.Contains(doc.Find("#total").Text(), "65 links match") {
		t.Errorf("first page: %d rows, %q", n, doc.Find("#total").Text())
	}
	next, ok := doc.Find(`.pager a[rel="next"]`).Attr("href")
	if !ok {
		t.Fatal("no next page link")
	}
	_, doc = b.get(next)
	if n := len(slugsOn(doc)); n != 15 || !strings.Contains(doc.Find("#total").Text(), "65 links match") {
		t.Errorf("second page: %d rows, %q", n, doc.Find("#total").Text())
	}
	if doc.Find(`.pager a[rel="prev"]`).Length() != 1 || doc.Find(`.pager a[rel="next"]`).Length() != 0 {
		t.Error("second page should link back only")
	}

	prev := doc.Find(`.pager a[rel="prev"]`).AttrOr("href", "")
	_, doc = b.get(prev)
	if n := len(slugsOn(doc)); n != 50 || doc.Find(`.pager a[rel="prev"]`).Length() != 0 || doc.Find(`.pager a[rel="next"]`).Length() != 1 {
		t.Errorf("back to the first page (%s): %d rows", prev, n)
	}

	cases := []struct {
		query string
		total int
		first string // destination host of the first row
	}{
		{"q=SHOP0", 10, "shop09"},
		{"q=promo", 5, "promo4"},
		{"type=campaign", 5, "promo4"},
		{"type=site_preview&active=false", 20, "shop57"},
		{"type=site_preview&active=true&sort=most_clicks", 40, "shop59"},
		{"type=site_preview&sort=fewest_clicks", 60, "shop00"},
		{"type=site_preview&sort=oldest", 60, "shop00"},
		{"q=nothing-matches", 0, ""},
	}
	for _, tc := range cases {
		_, doc := b.get("/admin/links?" + tc.query)
		total := doc.Find("#total").Text()
		if tc.total == 0 {
			if !strings.Contains(total, "No links match") {
				t.Errorf("%s: %q, want no links", tc.query, total)
			}
			continue
		}
		if !strings.Contains(total, fmt.Sprintf("%d links match", tc.total)) {
			t.Errorf("%s: %q, want a total of %d", tc.query, total, tc.total)
		}
		if first := doc.Find("table.links tbody tr .dest").First().Text(); !strings.Contains(first, tc.first+".example.com") {
			t.Errorf("%s: first row %q, want %s", tc.query, first, tc.first)
		}
		// The filter survives into the form, the export link and the pager.
		if q, _ := url.ParseQuery(tc.query); q.Get("type") != "" {
			if sel := doc.Find(`select[name="type"] option[selected]`).AttrOr("value", ""); sel != q.Get("type") {
				t.Errorf("%s: type select shows %q", tc.query, sel)
			}
			if href := doc.Find(`a[href^="/admin/links.csv"]`).AttrOr("href", ""); !strings.Contains(href, "type="+q.Get("type")) {
				t.Errorf("%s: export link %q drops the filter", tc.query, href)
			}
		}
	}
}

func TestLinkListingRejectsBadParameters(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.signedIn(t)
	// Each message names its parameter.
	for query, field := range map[string]string{
		"type=bogus":                    "type must",
		"active=maybe":                  "active must",
		"sort=slug":                     "sort must",
		"cursor=bogus":                  "cursor must",
		"cursor=MXxvbGRlc3R8YXwxfDE":    "cursor must", // a cursor of sort=oldest
		"q=" + strings.Repeat("a", 201): "(q)",
		"q=a%00b":                       "(q)",
		"q=%FF":                         "(q)",
	} {
		for _, path := range []string{"/admin/links?", "/admin/links.csv?"} {
			resp, doc := b.get(path + query)
			msg := doc.Find(".error-page").Text()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, field) {
				t.Errorf("%s%s: %d %q, want 400 naming %s", path, query, resp.StatusCode, strings.TrimSpace(msg), field)
			}
		}
	}
}

func TestLinksCSVExport(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	manyLinks(t, app)
	ctx := context.Background()
	for i, name := range []string{"=HYPERLINK(\"https://evil.example.com\")", "+1 Plumbing", "-Dash", "@Mention", "\tTabbed", "Plain & Simple"} {
		var id string
		if err := app.Store.DB().Get(&id, `INSERT INTO businesses (name) VALUES ($1) RETURNING id::text`, name); err != nil {
			t.Fatal(err)
		}
		l := app.addLink(t, fmt.Sprintf("https://biz%d.example.com/", i), "sms")
		app.Store.DB().MustExecContext(ctx, `UPDATE short_links SET business_id = $1 WHERE id = $2`, id, l.ID)
	}
	b := app.signedIn(t)

	resp, body := b.getRaw("/admin/links.csv?type=site_preview&active=true&sort=most_clicks")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "slug,short_url,destination_url,link_type,business,active,clicks,previews,created_at" {
		t.Errorf("header %v", rows[0])
	}
	// Every match, not one page, in the listing's order.
	if len(rows) != 41 || rows[1][2] != "https://shop59.example.com/" || rows[1][6] != "59" || rows[1][5] != "true" {
		t.Errorf("%d rows, first %v; want 40 active site previews, most clicked first", len(rows)-1, rows[1])
	}
	if rows[1][1] != app.URL+"/"+rows[1][0] {
		t.Errorf("short URL %q for slug %q", rows[1][1], rows[1][0])
	}

	_, body = b.getRaw("/admin/links.csv?type=sms&sort=oldest")
	rows, _ = csv.NewReader(strings.NewReader(body)).ReadAll()
	var businesses []string
	for _, r := range rows[1:] {
		businesses = append(businesses, r[4])
	}
	want := []string{"'=HYPERLINK(\"https://evil.example.com\")", "'+1 Plumbing", "'-Dash", "'@Mention", "'\tTabbed", "Plain & Simple"}
	if strings.Join(businesses, "|") != strings.Join(want, "|") {
		t.Errorf("business cells %q, want formulas defused: %q", businesses, want)
	}

	resp, body = b.getRaw("/admin/links.csv?q=nothing-matches")
	if resp.StatusCode != http.StatusOK || strings.Count(body, "\n") != 1 {
		t.Errorf("empty export: %d %q, want the header line only", resp.StatusCode, body)
	}
}
