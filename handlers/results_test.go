package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/handlers"
)

type resultsAnswer struct {
	Variants []struct {
		Variant                string   `json:"variant"`
		Sends                  int64    `json:"sends"`
		BusinessesSent         int64    `json:"businesses_sent"`
		BusinessesClicked      int64    `json:"businesses_clicked"`
		ClickRate              float64  `json:"click_rate"`
		ClickRateLow           float64  `json:"click_rate_low"`
		ClickRateHigh          float64  `json:"click_rate_high"`
		Clicks                 int64    `json:"clicks"`
		Segments               int64    `json:"segments"`
		Cost                   float64  `json:"cost"`
		Currency               string   `json:"currency"`
		CostPerClick           *float64 `json:"cost_per_click"`
		CostPerBusinessClicked *float64 `json:"cost_per_business_clicked"`
	} `json:"variants"`
	Since *string `json:"since"`
	Until *string `json:"until"`
}

// Taps belong to the business's latest send at or before them: none
// before its first send, none for previews, HEAD or prefetches; every
// variant is listed; a window on sent_at keeps its sends' clicks.
func TestResultsAttributeTapsToTheLatestSend(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	quiet := app.addBusiness(t, "Quiet Deli", "Austin", "https://quiet.example.com/")
	_, pv := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(b.ID, "friendly"))
	slug := pv["slug"].(string)
	tap := func(method, ua string, header ...string) {
		req, _ := http.NewRequest(method, app.URL+"/"+slug, nil)
		req.Header.Set("User-Agent", ua)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	flushed := func(clicks int64) {
		t.Helper()
		if !pollUntil(5*time.Second, func() bool {
			c, _, _ := app.counts(t, slug)
			return c == clicks && app.H.RedirectStats().PendingClicks == 0
		}) {
			t.Fatalf("clicks not flushed (want %d)", clicks)
		}
	}

	tap("GET", iPhone) // before any send: no variant's
	_, friendly := app.mustPost(t, "/api/v1/campaigns/sends", "rosa-1", previewBody(b.ID, "friendly"))
	tap("GET", iPhone)
	tap("GET", iPhone)
	tap("GET", "WhatsApp/2.23.20.0")
	tap("HEAD", iPhone)
	tap("GET", iPhone, "Sec-Purpose", "prefetch;prerender")
	flushed(3)
	_, urgent := app.mustPost(t, "/api/v1/campaigns/sends", "rosa-2", previewBody(b.ID, "urgent"))
	tap("GET", iPhone)
	app.mustPost(t, "/api/v1/campaigns/sends", "quiet-1", previewBody(quiet.ID, "friendly"))
	flushed(4)

	var all resultsAnswer
	app.getJSON(t, "/api/v1/campaigns/results", &all)
	if len(all.Variants) != 3 || all.Since != nil || all.Until != nil {
		t.Fatalf("results: %+v", all)
	}
	got := map[string]int{}
	for i, v := range all.Variants {
		got[v.Variant] = i
	}
	f, p, u := all.Variants[got["friendly"]], all.Variants[got["professional"]], all.Variants[got["urgent"]]
	if f.Sends != 2 || f.BusinessesSent != 2 || f.BusinessesClicked != 1 || f.Clicks != 2 || f.ClickRate != 0.5 {
		t.Errorf("friendly: %+v; want 2 sends to 2 businesses, 1 clicked, 2 clicks, rate 0.5", f)
	}
	if u.Sends != 1 || u.BusinessesSent != 1 || u.BusinessesClicked != 1 || u.Clicks != 1 || u.ClickRate != 1 {
		t.Errorf("urgent: %+v; want 1 send, 1 click", u)
	}
	if p.Sends != 0 || p.ClickRate != 0 || p.ClickRateLow != 0 || p.ClickRateHigh != 0 || p.CostPerClick != nil || p.CostPerBusinessClicked != nil || p.Currency != "USD" {
		t.Errorf("professional (never sent): %+v; want zeros and nulls", p)
	}
	if f.Segments != int64(friendly["segments"].(float64))*2 || f.CostPerClick == nil || *f.CostPerClick != f.Cost/2 {
		t.Errorf("friendly costs: %+v", f)
	}

	// The window selects sends by sent_at; the urgent send keeps its click.
	var window resultsAnswer
	app.getJSON(t, "/api/v1/campaigns/results?since="+url.QueryEscape(urgent["sent_at"].(string)), &window)
	for _, v := range window.Variants {
		want := map[string][2]int64{"friendly": {1, 0}, "professional": {0, 0}, "urgent": {1, 1}}[v.Variant]
		if v.Sends != want[0] || v.Clicks != want[1] {
			t.Errorf("since the urgent send, %s: %d sends, %d clicks; want %v", v.Variant, v.Sends, v.Clicks, want)
		}
	}
	// A window around everything agrees with the running totals.
	var wide resultsAnswer
	app.getJSON(t, "/api/v1/campaigns/results?since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z", &wide)
	for i := range wide.Variants {
		a, w := all.Variants[i], wide.Variants[i]
		if a.Sends != w.Sends || a.BusinessesSent != w.BusinessesSent || a.BusinessesClicked != w.BusinessesClicked || a.Clicks != w.Clicks || a.Segments != w.Segments || a.Cost != w.Cost {
			t.Errorf("%s: running totals %+v, scanned %+v", a.Variant, a, w)
		}
	}
	_ = friendly
	if status, body := app.api(t, "GET", "/api/v1/campaigns/results?since=yesterday", nil); status != http.StatusBadRequest || errorOf(body, "field") != "since" {
		t.Errorf("bad since: %d %v", status, body)
	}

	br := app.signedIn(t)
	_, page := br.get("/admin/results")
	if got := page.Find("#verdict").Text(); !strings.Contains(got, "Not enough data yet") {
		t.Errorf("verdict with one business per variant: %q", got)
	}
	if page.Find(`nav a[href="/admin/results"]`).Length() != 1 || page.Find("#results tbody tr").Length() != 3 {
		t.Error("results page lacks its navigation link or a variant row")
	}
}

// Attribution uses each tap's own time, not the flush's: a tap still in
// memory when a send is recorded stays before it.
func TestAttributionUsesTheTapTimeNotTheFlushTime(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) { c.Redirects.FlushInterval = time.Hour })
	b := app.addBusiness(t, "Slow Flush Florist", "Austin", "https://florist.example.com/")
	_, pv := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(b.ID, "professional"))
	tap := func() { request(t, "GET", app.URL+"/"+pv["slug"].(string), iPhone) }
	tap()
	app.mustPost(t, "/api/v1/campaigns/sends", "florist-1", previewBody(b.ID, "professional"))
	tap()
	tap()
	app.shutdown(t) // one flush carries all three taps
	rows, err := app.Store.CampaignResults(context.Background(), nil, nil)
	if err != nil || len(rows) != 1 || rows[0].Variant != "professional" || rows[0].Clicks != 2 {
		t.Errorf("results %+v, %v; want 2 clicks on professional (the tap before the send belongs to none)", rows, err)
	}
}
