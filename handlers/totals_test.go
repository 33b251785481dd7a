package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/shortlinks/shortlinks/db"
)

// Two businesses with one site share its link; a duplicate of it, made
// in the incident and since merged, keeps its history. Every total counts
// each tap once, on every page and in the API.
func TestBusinessTotalsSpanHistoryAndSharedLinks(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	const site = "https://shared-salon.example.com/"
	a := app.addBusiness(t, "Salon A", "Austin", site)
	b := app.addBusiness(t, "Salon B", "Austin", site)
	lonely := app.addBusiness(t, "Lonely Bakery", "Austin", "https://lonely.example.com/")
	_, preview := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(a.ID, "friendly"))
	survivor := preview["slug"].(string)

	// The incident: B got a second active link, which was tapped 3 times.
	app.plantDuplicate(t, "dupSal", site)
	app.Store.DB().MustExec(`UPDATE short_links SET business_id = $1 WHERE slug = 'dupSal'`, b.ID)
	tap := func(slug string, n int) {
		for range n {
			if resp, _ := request(t, "GET", app.URL+"/"+slug, iPhone); resp.StatusCode != http.StatusFound {
				t.Fatalf("tap %s: %d", slug, resp.StatusCode)
			}
		}
	}
	tap("dupSal", 3)
	tap(survivor, 2)
	if !pollUntil(5*time.Second, func() bool { c, _, _ := app.counts(t, "dupSal"); return c == 3 }) {
		t.Fatal("taps not flushed")
	}
	if _, err := app.Store.Heal(context.Background(), db.HealOptions{}); err != nil {
		t.Fatal(err)
	}
	app.restoreIndex(t)
	app.drainFeed(t) // the heal's notifications must reach the cache before the taps
	tap("dupSal", 2) // old SMS, forwarded to the survivor
	request(t, "GET", app.URL+"/"+survivor, "WhatsApp/2.23.20.0")
	if !pollUntil(5*time.Second, func() bool { c, _, _ := app.counts(t, survivor); return c == 4 }) {
		t.Fatal("forwarded taps not flushed")
	}
	if !pollUntil(5*time.Second, func() bool { _, p, _ := app.counts(t, survivor); return p == 1 }) {
		t.Fatal("preview not flushed")
	}

	for _, biz := range []string{a.ID, b.ID} {
		var got struct {
			ClickCount   int64 `json:"click_count"`
			PreviewCount int64 `json:"preview_count"`
			Links        []struct {
				Slug         string  `json:"slug"`
				IsActive     bool    `json:"is_active"`
				SupersededBy *string `json:"superseded_by"`
				ClickCount   int64   `json:"click_count"`
				Shared       bool    `json:"shared"`
			} `json:"links"`
		}
		app.getJSON(t, "/api/v1/businesses/"+biz, &got)
		// 3 taps on the duplicate before the merge, 2 on the survivor, 2
		// forwarded: 7 taps, counted once.
		if got.ClickCount != 7 || got.PreviewCount != 1 || len(got.Links) != 2 {
			t.Fatalf("business %s: %+v; want 7 clicks, 1 preview, 2 links", biz, got)
		}
		if l := got.Links[0]; l.Slug != survivor || !l.IsActive || l.SupersededBy != nil || l.ClickCount != 4 || !l.Shared {
			t.Errorf("active link: %+v", l)
		}
		if l := got.Links[1]; l.Slug != "dupSal" || l.IsActive || l.SupersededBy == nil || *l.SupersededBy != survivor || l.ClickCount != 3 || !l.Shared {
			t.Errorf("merged link: %+v", l)
		}
	}
	var alone struct {
		ClickCount int64 `json:"click_count"`
		Links      []any `json:"links"`
	}
	app.getJSON(t, "/api/v1/businesses/"+lonely.ID, &alone)
	if alone.ClickCount != 0 || len(alone.Links) != 0 {
		t.Errorf("untouched business: %+v", alone)
	}
	if status, _ := app.api(t, "GET", "/api/v1/businesses/00000000-0000-4000-8000-000000000000", nil); status != http.StatusNotFound {
		t.Errorf("unknown business: %d", status)
	}

	br := app.signedIn(t)
	_, list := br.get("/admin/campaigns")
	rows := map[string]string{}
	list.Find("tbody tr").Each(func(_ int, tr *goquery.Selection) {
		rows[strings.TrimSpace(tr.Find("td").First().Text())] = strings.TrimSpace(tr.Find("td.clicks").Text())
	})
	if rows["Salon A"] != "7" || rows["Salon B"] != "7" || rows["Lonely Bakery"] != "0" {
		t.Errorf("campaigns list clicks: %v", rows)
	}
	_, page := br.get("/admin/campaigns/" + b.ID)
	if got := strings.TrimSpace(page.Find("#business-clicks").Text()); got != "7" {
		t.Errorf("preview page total %q, want 7", got)
	}
	if got := page.Find("#shared-with").Text(); !strings.Contains(got, "shared with 1 business") {
		t.Errorf("preview page sharing: %q", got)
	}
}

// "Mark as sent" records the variant shown, once even when the form is
// submitted twice, and the page then says when and which.
func TestMarkAsSentFromThePreviewPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	biz := app.addBusiness(t, "Corner Café", "Austin", "https://corner.example.com/")
	br := app.signedIn(t)
	_, page := br.get("/admin/campaigns/" + biz.ID + "?variant=professional")
	if got := page.Find("#last-send").Text(); !strings.Contains(got, "not sent yet") {
		t.Errorf("before: %q", got)
	}
	for range 2 { // a double click submits the same form twice
		if resp := br.submit(page, "#mark-sent"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("mark as sent: %d", resp.StatusCode)
		}
	}
	if n := app.countRows(t, "campaign_sends"); n != 1 {
		t.Fatalf("%d sends recorded by a double click, want 1", n)
	}
	var variant, message string
	app.Store.DB().QueryRow(`SELECT variant, message FROM campaign_sends`).Scan(&variant, &message)
	shown := page.Find("#preview-panel .bubble").Text()
	if variant != "professional" || message != shown {
		t.Errorf("recorded %s %q, page showed professional %q", variant, message, shown)
	}
	_, after := br.get("/admin/campaigns/" + biz.ID)
	if got := after.Find("#last-send").Text(); !strings.Contains(got, "Professional") || !strings.Contains(got, "sent ") {
		t.Errorf("after: %q, want when and which variant", got)
	}
	// Without the CSRF token nothing is recorded.
	resp, _ := br.post("/admin/campaigns/"+biz.ID+"/sends", map[string][]string{"variant": {"urgent"}, "idempotency_key": {"k-no-csrf"}})
	if resp.StatusCode != http.StatusForbidden || app.countRows(t, "campaign_sends") != 1 {
		t.Errorf("POST without CSRF: %d", resp.StatusCode)
	}
}
