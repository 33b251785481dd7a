package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestAPIRequiresBearerToken(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for _, auth := range []string{"", "Bearer", "Bearer wrong", "Basic " + testToken, testToken} {
		req, _ := http.NewRequest("POST", app.URL+"/api/v1/links", strings.NewReader(`{"destination_url":"https://a.example.com/"}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		status, body := doJSON(t, req)
		if status != http.StatusUnauthorized || errorOf(body, "code") != "unauthorized" {
			t.Errorf("Authorization %q: %d %v, want 401 JSON", auth, status, body)
		}
	}
	if n := app.countLinks(t); n != 0 {
		t.Errorf("%d links created by unauthorized calls", n)
	}
	req, _ := http.NewRequest("GET", app.URL+"/api/v1/health/duplicates", nil)
	req.Header.Set("Authorization", "bearer second-token")
	if status, _ := doJSON(t, req); status != http.StatusOK {
		t.Errorf("second configured token: %d, want 200", status)
	}
}

func TestCreateLinkIsGetOrCreate(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	status, first := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "HTTPS://Shop.Example.com"})
	if status != http.StatusCreated || first["created"] != true {
		t.Fatalf("first create: %d %v", status, first)
	}
	if first["destination_url"] != "https://shop.example.com/" || first["link_type"] != "site_preview" || first["is_active"] != true {
		t.Errorf("normalized link: %v", first)
	}
	slug, _ := first["slug"].(string)
	if first["short_url"] != app.URL+"/"+slug {
		t.Errorf("short_url %v, want %s/%s", first["short_url"], app.URL, slug)
	}
	// An equivalent spelling of the URL is the same destination.
	status, again := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://shop.example.com:443/", "link_type": "site_preview"})
	if status != http.StatusOK || again["slug"] != slug || again["created"] != false {
		t.Errorf("second create: %d %v, want 200 with slug %s", status, again, slug)
	}
	status, got := app.api(t, "GET", "/api/v1/links/"+slug, nil)
	if status != http.StatusOK || got["slug"] != slug {
		t.Errorf("get: %d %v", status, got)
	}
}

// Hundreds of concurrent API calls for one destination produce one link.
func TestCreateLinkConcurrentHTTP(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	const callers = 150
	var wg sync.WaitGroup
	slugs := make([]string, callers)
	statuses := make([]int, callers)
	for i := range callers {
		wg.Go(func() {
			status, body := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://race.example.com/"})
			statuses[i] = status
			slugs[i], _ = body["slug"].(string)
		})
	}
	wg.Wait()
	created := 0
	for i := range callers {
		if statuses[i] == http.StatusCreated {
			created++
		} else if statuses[i] != http.StatusOK {
			t.Fatalf("call %d: status %d", i, statuses[i])
		}
		if slugs[i] != slugs[0] {
			t.Fatalf("call %d got %q, call 0 got %q", i, slugs[i], slugs[0])
		}
	}
	if created != 1 || app.countLinks(t) != 1 {
		t.Errorf("%d answers were 201 and %d rows exist; want 1 and 1", created, app.countLinks(t))
	}
}

func TestCreateLinkRejectsBadInput(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	cases := []struct {
		name, body, field string
		status            int
	}{
		{"empty body", ``, "", 400},
		{"not JSON", `{"destination_url":`, "", 400},
		{"array", `[]`, "", 400},
		{"two objects", `{"destination_url":"https://a.example.com/"} {}`, "", 400},
		{"missing url", `{}`, "destination_url", 400},
		{"url wrong type", `{"destination_url": 42}`, "destination_url", 400},
		{"javascript url", `{"destination_url":"javascript:alert(1)"}`, "destination_url", 400},
		{"relative url", `{"destination_url":"/admin"}`, "destination_url", 400},
		{"credentials", `{"destination_url":"https://user:pw@a.example.com/"}`, "destination_url", 400},
		{"too long", `{"destination_url":"https://a.example.com/` + strings.Repeat("a", 4100) + `"}`, "destination_url", 400},
		{"unknown field", `{"destination_url":"https://a.example.com/","slug":"mine"}`, "slug", 400},
		{"unknown link type", `{"destination_url":"https://a.example.com/","link_type":"bogus"}`, "link_type", 400},
		{"business not uuid", `{"destination_url":"https://a.example.com/","business_id":"1; DROP TABLE"}`, "business_id", 400},
		{"business missing", `{"destination_url":"https://a.example.com/","business_id":"00000000-0000-4000-8000-000000000000"}`, "business_id", 400},
		{"site missing", `{"destination_url":"https://a.example.com/","site_id":"00000000-0000-4000-8000-000000000000"}`, "site_id", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := app.api(t, "POST", "/api/v1/links", tc.body)
			if status != tc.status || errorOf(body, "field") != tc.field || errorOf(body, "message") == "" {
				t.Errorf("got %d %v, want %d naming field %q", status, body, tc.status, tc.field)
			}
		})
	}
	if n := app.countLinks(t); n != 0 {
		t.Errorf("bad input created %d links", n)
	}
	// A missing business is refused whether or not the link exists already.
	app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://exists.example.com/"})
	status, body := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://exists.example.com/", "business_id": "00000000-0000-4000-8000-000000000000"})
	if status != http.StatusBadRequest || errorOf(body, "field") != "business_id" {
		t.Errorf("missing business for an existing link: %d %v, want 400 naming business_id", status, body)
	}
}

func TestDeactivateAndActivateViaAPI(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, old := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://gym.example.com/"})
	oldSlug := old["slug"].(string)
	status, body := app.api(t, "POST", "/api/v1/links/"+oldSlug+"/deactivate", nil)
	if status != 200 || body["is_active"] != false {
		t.Fatalf("deactivate: %d %v", status, body)
	}
	_, fresh := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://gym.example.com/"})
	if fresh["slug"] == oldSlug {
		t.Fatal("deactivated link was handed out again")
	}
	status, body = app.api(t, "POST", "/api/v1/links/"+oldSlug+"/activate", nil)
	if status != http.StatusConflict || errorOf(body, "code") != "conflict" {
		t.Errorf("activate over an active link: %d %v, want 409", status, body)
	}
	for _, path := range []string{"/api/v1/links/nosuch", "/api/v1/links/bad-slug!", "/api/v1/nothing"} {
		if status, body := app.api(t, "GET", path, nil); status != 404 || errorOf(body, "code") != "not_found" {
			t.Errorf("GET %s: %d %v, want 404 JSON", path, status, body)
		}
	}
}

func TestBusinessesAPI(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	status, b := app.api(t, "POST", "/api/v1/businesses", map[string]any{"name": "Rosa's Bakery", "site_url": "https://rosas.example.com", "city": "Austin"})
	if status != http.StatusCreated || b["id"] == "" || b["site_url"] != "https://rosas.example.com/" {
		t.Fatalf("create business: %d %v", status, b)
	}
	for body, field := range map[string]string{
		`{"site_url":"https://x.example.com/"}`:                     "name",
		`{"name":"X"}`:                                              "site_url",
		`{"name":"X","site_url":"ftp://x.example.com/"}`:            "site_url",
		`{"name":"X","site_url":"https://x.example.com/","city":7}`: "city",
	} {
		if status, resp := app.api(t, "POST", "/api/v1/businesses", body); status != 400 || errorOf(resp, "field") != field {
			t.Errorf("%s: %d %v, want 400 naming %s", body, status, resp, field)
		}
	}
	req, _ := http.NewRequest("GET", app.URL+"/api/v1/businesses?limit=10", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Businesses []map[string]any `json:"businesses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 || len(page.Businesses) != 1 || page.Businesses[0]["name"] != "Rosa's Bakery" {
		t.Errorf("list: %d %v %v", resp.StatusCode, page, err)
	}
	// A link can reference the business.
	status, l := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://rosas.example.com/", "business_id": b["id"], "site_id": b["site_id"]})
	if status != http.StatusCreated || l["business_id"] != b["id"] {
		t.Errorf("link with business: %d %v", status, l)
	}
}

func TestDuplicateHealthAPI(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://a.example.com/"})
	app.checkDuplicates(t)
	status, h := app.api(t, "GET", "/api/v1/health/duplicates", nil)
	if status != 200 || h["duplicate_groups"] != 0.0 || h["unique_index_present"] != true || h["active_links"] != 1.0 {
		t.Fatalf("healthy: %d %v", status, h)
	}
	for _, key := range []string{"duplicate_links", "inactive_links", "checked_at", "unique_index_valid"} {
		if _, ok := h[key]; !ok {
			t.Errorf("missing %s in %v", key, h)
		}
	}
	app.Store.DB().MustExec(`DROP INDEX short_links_one_active_idx`)
	app.Store.DB().MustExec(`INSERT INTO short_links (slug, destination_url) VALUES ('dup001', 'https://a.example.com/')`)
	app.checkDuplicates(t)
	_, h = app.api(t, "GET", "/api/v1/health/duplicates", nil)
	if h["duplicate_groups"] != 1.0 || h["duplicate_links"] != 2.0 || h["unique_index_present"] != false {
		t.Errorf("with a forced duplicate: %v", h)
	}
}

func TestProbes(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(app.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", path, resp.StatusCode, err)
		}
		resp.Body.Close()
	}
}

// What encoding/json would let through silently is refused, naming the key.
func TestCreateLinkRejectsAmbiguousJSON(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for body, field := range map[string]string{
		`{"destination_url":"https://a.example.com/","destination_url":"https://b.example.com/"}`: "destination_url",
		`{"Destination_URL":"https://a.example.com/"}`:                                            "Destination_URL",
		"{\"destination_url\":\"https://a.example.com/\xff\"}":                                    "",
		`{"destination_url":"https://a.example.com/\ud800"}`:                                      "destination_url",
	} {
		status, resp := app.api(t, "POST", "/api/v1/links", body)
		if status != http.StatusBadRequest || errorOf(resp, "field") != field {
			t.Errorf("%q: %d %v, want 400 naming %q", body, status, resp, field)
		}
	}
	if n := app.countLinks(t); n != 0 {
		t.Errorf("%d links created from ambiguous bodies", n)
	}
}

// JSON nested deeper than the decoder reads is reported as such, not as
// invalid JSON: the client's JSON may be fine, only too deep.
func TestDeeplyNestedJSONIsNamed(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	for name, body := range map[string]string{
		"top level":  deep,
		"in a field": `{"destination_url":` + deep + `}`,
	} {
		status, resp := app.api(t, "POST", "/api/v1/links", body)
		if msg := errorOf(resp, "message"); status != http.StatusBadRequest || !strings.Contains(msg, "nested too deeply") {
			t.Errorf("%s: %d %q, want 400 saying the body is nested too deeply", name, status, msg)
		}
	}
	// Broken JSON is still called that.
	if _, resp := app.api(t, "POST", "/api/v1/links", `{"destination_url":`); !strings.Contains(errorOf(resp, "message"), "not valid JSON") {
		t.Errorf("truncated JSON: %q", errorOf(resp, "message"))
	}
}
