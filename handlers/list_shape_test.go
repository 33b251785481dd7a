package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// Every list of /api/v1 (but /businesses, reworked elsewhere) answers
// {"<items>": [...], "next_cursor"} and pages with limit and cursor;
// every parameter is honoured or refused with a 400 naming it, and a
// malformed cursor, however malformed, is a 400 naming cursor.
func TestListsShareOneShape(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for i := range 3 {
		b := app.addBusiness(t, fmt.Sprintf("Shop %d", i), "Austin", fmt.Sprintf("https://shop%d.example.com/", i))
		if status, body, err := app.post("/api/v1/campaigns/sends", fmt.Sprintf("send-%d", i), previewBody(b.ID, "urgent")); err != nil || status != 201 {
			t.Fatalf("record a send: %d %v %v", status, body, err)
		}
		if status, body := app.api(t, "POST", "/api/v1/webhooks/endpoints", map[string]any{"url": fmt.Sprintf("https://hooks%d.example.com/", i)}); status != 201 {
			t.Fatalf("add an endpoint: %d %v", status, body)
		}
	}
	for _, list := range []struct{ path, items string }{
		{"/api/v1/links", "links"},
		{"/api/v1/campaigns/sends", "sends"},
		{"/api/v1/webhooks/endpoints", "endpoints"},
	} {
		// limit=1 walks every row once, by next_cursor.
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			q := url.Values{"limit": {"1"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			status, body := app.api(t, "GET", list.path+"?"+q.Encode(), nil)
			items, ok := body[list.items].([]any)
			if status != 200 || !ok || len(items) > 1 || pages > 5 {
				t.Fatalf("%s page %d: %d %v", list.path, pages, status, body)
			}
			for _, it := range items {
				seen[fmt.Sprint(it)] = true
			}
			next, _ := body["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 3 {
			t.Errorf("%s: %d rows seen paging by one, want 3", list.path, len(seen))
		}
		for _, tc := range []struct{ query, field string }{
			{"cursor=%%%", "cursor"},
			{"cursor=zzz", "cursor"},
			{"cursor=" + url.QueryEscape(cursor+"!"), "cursor"},
			{"limit=0", "limit"},
			{"limit=abc", "limit"},
			{"q=rosa&bogus=1", "bogus"},
			{"offset=10", "offset"},
		} {
			if list.items == "links" && tc.query == "q=rosa&bogus=1" {
				tc.query = "bogus=1&q=rosa"
			}
			status, body := app.api(t, "GET", list.path+"?"+tc.query, nil)
			field := errorOf(body, "field")
			if tc.field == "bogus" && list.items != "links" {
				// q is not a parameter of this list: it is named first.
				if status != 400 || (field != "q" && field != "bogus") {
					t.Errorf("GET %s?%s: %d %v, want 400 naming q or bogus", list.path, tc.query, status, body)
				}
				continue
			}
			if status != 400 || field != tc.field {
				t.Errorf("GET %s?%s: %d %v, want 400 naming %s", list.path, tc.query, status, body, tc.field)
			}
		}
	}
	if status, body := app.api(t, "GET", "/api/v1/campaigns/results?since=2026-01-01T00:00:00Z&window=7d", nil); status != 400 || errorOf(body, "field") != "window" {
		t.Errorf("results with an unknown parameter: %d %v", status, body)
	}
}

// The Shlink API validates dates the same way on every endpoint that
// takes them.
func TestShlinkDatesValidatedAlike(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	link := app.addLink(t, "https://dates.example.com/", "campaign")
	for _, path := range []string{
		"/rest/v3/short-urls?startDate=bad",
		"/rest/v3/short-urls/" + link.Slug + "/visits?startDate=notadate",
		"/rest/v3/short-urls/" + link.Slug + "/visits?endDate=2026-13-01",
	} {
		status, body := app.shlink(t, testToken, "GET", path, "")
		if status != http.StatusBadRequest || body["type"] != "https://shlink.io/api/error/invalid-data" {
			t.Errorf("GET %s: %d %v, want 400 invalid-data", path, status, body)
		}
	}
	if status, body := app.shlink(t, testToken, "GET", "/rest/v3/short-urls/"+link.Slug+"/visits?startDate=2026-12-02&endDate=2026-12-01", ""); status != 400 {
		t.Errorf("a range ending before it starts: %d %v", status, body)
	}
	for _, path := range []string{
		"/rest/v3/short-urls/" + link.Slug + "/visits?startDate=2026-12-01T00:00:00%2B00:00&endDate=2026-12-31",
		"/rest/v3/short-urls/" + link.Slug + "/visits",
	} {
		if status, body := app.shlink(t, testToken, "GET", path, ""); status != 200 {
			t.Errorf("GET %s: %d %v, want 200", path, status, body)
		}
	}
}
