package handlers_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/shortlinks/shortlinks/db"
)

// tiedLinks inserts n links whose sort keys tie in groups: created_at takes
// three values and click_count four, so only the id tells most rows apart.
func tiedLinks(t *testing.T, app *testApp, n int) map[string]bool {
	t.Helper()
	app.Store.DB().MustExec(`INSERT INTO short_links (slug, destination_url, link_type, is_active, click_count, created_at)
		SELECT 'tie' || i, 'https://tie' || i || '.example.com/', CASE WHEN i % 2 = 0 THEN 'sms' ELSE 'campaign' END,
		       i % 5 <> 0, i % 4, timestamptz '2026-01-01' + (i % 3) * interval '1 hour'
		FROM generate_series(1, $1::int) i`, n)
	all := map[string]bool{}
	for i := 1; i <= n; i++ {
		all[fmt.Sprintf("tie%d", i)] = true
	}
	return all
}

// walk follows next_cursor from the first page to the last and returns the
// links in the order received; onPage (if any) runs after every page.
func walk(t *testing.T, app *testApp, query url.Values, onPage func()) []map[string]any {
	t.Helper()
	var out []map[string]any
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the walk never ended")
		}
		status, body := app.api(t, "GET", "/api/v1/links?"+query.Encode(), nil)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %v", query.Encode(), status, body)
		}
		links, _ := body["links"].([]any)
		for _, l := range links {
			out = append(out, l.(map[string]any))
		}
		if onPage != nil {
			onPage()
		}
		next, ok := body["next_cursor"].(string)
		if !ok {
			return out
		}
		if len(links) == 0 {
			t.Fatalf("%s: an empty page with a next_cursor", query.Encode())
		}
		query.Set("cursor", next)
	}
}

// inOrder reports whether links follow the sort's key (ties allowed).
func inOrder(links []map[string]any, sortName db.LinkSort) bool {
	key := func(l map[string]any) string {
		if sortName == db.SortMostClicks || sortName == db.SortFewestClicks {
			return fmt.Sprintf("%020.0f", l["click_count"].(float64))
		}
		return l["created_at"].(string) // RFC 3339 in UTC sorts as text
	}
	desc := sortName == db.SortNewest || sortName == db.SortMostClicks
	return sort.SliceIsSorted(links, func(i, j int) bool {
		if desc {
			return key(links[i]) > key(links[j])
		}
		return key(links[i]) < key(links[j])
	})
}

// Every cursor walk, in every order and filter, returns each row that
// existed when it started exactly once, in order, even though the sort keys
// tie and other rows are inserted while it walks.
func TestListLinksAPICursorWalkWhileInserting(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	existing := tiedLinks(t, app, 97)
	stop := make(chan struct{})
	paged := make(chan struct{}, 1)
	errs := make(chan error, 1)
	// A writer inserting links during every walk: three after each page
	// (fewer than a page holds, so a walk in an order where they land ahead
	// of the cursor still ends).
	go func() {
		defer close(errs)
		for i := 0; ; i++ {
			if i%3 == 0 {
				select {
				case <-stop:
					return
				case <-paged:
				}
			}
			_, err := app.Store.DB().Exec(`INSERT INTO short_links (slug, destination_url, link_type, created_at)
				VALUES ($1, $2, 'sms', timestamptz '2026-01-01' + ($3 % 3) * interval '1 hour')`,
				fmt.Sprintf("new%d", i), fmt.Sprintf("https://new%d.example.com/", i), i)
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	for _, s := range db.LinkSorts() {
		for _, filter := range []url.Values{{}, {"type": {"sms"}}, {"active": {"false"}}} {
			q := maps.Clone(filter)
			q.Set("sort", string(s))
			q.Set("limit", "7")
			links := walk(t, app, q, func() {
				select {
				case paged <- struct{}{}:
				default:
				}
			})
			seen := map[string]int{}
			for _, l := range links {
				seen[l["slug"].(string)]++
			}
			for slug, n := range seen {
				if n > 1 {
					t.Errorf("%s: %s returned %d times", q.Encode(), slug, n)
				}
			}
			for slug := range existing {
				i := 0
				fmt.Sscanf(slug, "tie%d", &i)
				want := (filter.Get("type") != "sms" || i%2 == 0) && (filter.Get("active") != "false" || i%5 == 0)
				if want && seen[slug] != 1 {
					t.Errorf("%s: %s returned %d times, want once", q.Encode(), slug, seen[slug])
				}
			}
			if !inOrder(links, s) {
				t.Errorf("%s: links out of order", q.Encode())
			}
			// The next walk starts from the same set of links, not from
			// every link the earlier walks saw inserted (which made each
			// walk longer than the last, 424 pages in all).
			app.Store.DB().MustExec(`DELETE FROM short_links WHERE slug LIKE 'new%'`)
		}
	}
	close(stop)
	if err := <-errs; err != nil {
		t.Fatalf("concurrent insert: %v", err)
	}
}

func TestListLinksAPIDefaultsAndShape(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	tiedLinks(t, app, 60)
	app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://newest.example.com/"})
	status, body := app.api(t, "GET", "/api/v1/links", nil)
	links, _ := body["links"].([]any)
	if status != http.StatusOK || len(links) != 50 || body["next_cursor"] == nil {
		t.Fatalf("first page: %d, %d links, next %v; want 50 and a cursor", status, len(links), body["next_cursor"])
	}
	first := links[0].(map[string]any)
	_, single := app.api(t, "GET", "/api/v1/links/"+first["slug"].(string), nil)
	if first["destination_url"] != "https://newest.example.com/" || !slices.Equal(slices.Sorted(maps.Keys(first)), slices.Sorted(maps.Keys(single))) {
		t.Errorf("newest first with the shape of GET /api/v1/links/:slug: %v vs %v", first, single)
	}
	status, body = app.api(t, "GET", "/api/v1/links?limit=500", nil)
	if _, ok := body["next_cursor"]; status != http.StatusOK || ok || len(body["links"].([]any)) != 61 {
		t.Errorf("one page holding everything: %d, next_cursor present %t", status, ok)
	}
	status, body = app.api(t, "GET", "/api/v1/links?q=nothing-matches", nil)
	if links, ok := body["links"].([]any); status != http.StatusOK || !ok || len(links) != 0 {
		t.Errorf("no match: %d %v; want an empty list", status, body)
	}
}

func TestListLinksAPIRejectsBadParameters(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	oldest := db.Cursor{Order: "oldest", Key: "1", ID: "1"}.String()
	for query, field := range map[string]string{
		"limit=0": "limit", "limit=501": "limit", "limit=ten": "limit",
		"cursor=bogus": "cursor", "cursor=" + oldest: "cursor", // a cursor of another order
		"sort=slug": "sort", "type=bogus": "type", "active=maybe": "active", "q=a%00b": "q",
	} {
		status, body := app.api(t, "GET", "/api/v1/links?"+query, nil)
		if status != http.StatusBadRequest || errorOf(body, "field") != field {
			t.Errorf("%s: %d %v, want 400 naming %s", query, status, body, field)
		}
	}
}

// Every listing reads limit (and offset) the same way: a bad value is a
// 400 naming it, never a silent default.
func TestListingsRejectBadPageParameters(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for _, path := range []string{
		"/api/v1/businesses?limit=abc", "/api/v1/businesses?limit=501", "/api/v1/businesses?offset=-1",
		"/api/v1/campaigns/sends?limit=0", "/api/v1/campaigns/sends?limit=ten",
	} {
		want := "limit"
		if strings.Contains(path, "offset") {
			want = "offset"
		}
		status, body := app.api(t, "GET", path, nil)
		if status != http.StatusBadRequest || errorOf(body, "field") != want {
			t.Errorf("%s: %d %v, want 400 naming %s", path, status, body, want)
		}
	}
}
