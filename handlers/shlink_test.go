package handlers_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/shortlinks/shortlinks/handlers"
)

// shlink calls the Shlink-compatible API with key (none when empty) and
// decodes the answer; it checks that errors are problem details.
func (a *testApp) shlink(t *testing.T, key, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, a.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&out); err != nil {
			t.Fatalf("%s %s: not JSON: %q", method, path, raw)
		}
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode >= 400 && method != "HEAD" && (ct != "application/problem+json" || out["status"] != float64(resp.StatusCode) || out["type"] == "" || out["title"] == "" || out["detail"] == "") {
		t.Errorf("%s %s: %d %q %v is not problem details", method, path, resp.StatusCode, ct, out)
	}
	return resp.StatusCode, out
}

// findIfExists, true or false, and however many clients at once, ends in
// the one active link for the URL, of the configured SHLINK_LINK_TYPE.
func TestShlinkCreateIsGetOrCreate(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) { c.ShlinkLinkType = "sms" })
	const callers = 50
	codes := make([]string, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			body := `{"longUrl":"https://race.example.com/","findIfExists":` + []string{"true", "false"}[i%2] + `}`
			if status, out := app.shlink(t, testToken, "POST", "/rest/v3/short-urls", body); status == 200 {
				codes[i], _ = out["shortCode"].(string)
			}
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c == "" || c != codes[0] {
			t.Fatalf("caller %d got %q, caller 0 %q", i, c, codes[0])
		}
	}
	var linkType string
	if err := app.Store.DB().Get(&linkType, `SELECT link_type FROM short_links WHERE slug = $1`, codes[0]); err != nil || linkType != "sms" {
		t.Errorf("link type %q (%v), want SHLINK_LINK_TYPE sms", linkType, err)
	}
	if n := app.countLinks(t); n != 1 {
		t.Errorf("%d links, want 1", n)
	}
}

func TestShlinkRefusesWhatItCannotHonour(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for body, element := range map[string]string{
		`{}`:                                "longUrl",
		`{"longUrl":"javascript:alert(1)"}`: "longUrl",
		`{"longUrl":"https://a.example.com/","maxVisits":10}`:                      "maxVisits",
		`{"longUrl":"https://a.example.com/","validSince":"2030-01-01T00:00:00Z"}`: "validSince",
		`{"longUrl":"https://a.example.com/","customSlug":"mine"}`:                 "customSlug",
		`{"longUrl":"https://a.example.com/","domain":"elsewhere.example"}`:        "domain",
		`{"longUrl":"https://a.example.com/","surprise":1}`:                        "surprise",
	} {
		status, out := app.shlink(t, testToken, "POST", "/rest/v3/short-urls", body)
		elems, _ := out["invalidElements"].([]any)
		if status != 400 || out["type"] != "https://shlink.io/api/error/invalid-data" || len(elems) != 1 || elems[0] != element {
			t.Errorf("%s: %d %v, want 400 invalid-data naming %s", body, status, out, element)
		}
	}
	// Accepted and ignored: tags, title, crawlable, forwardQuery, validUntil null.
	status, out := app.shlink(t, testToken, "POST", "/rest/v3/short-urls",
		`{"longUrl":"https://a.example.com/","tags":["x"],"title":"T","crawlable":true,"forwardQuery":true,"validUntil":null}`)
	if status != 200 || out["forwardQuery"] != false || len(out["tags"].([]any)) != 0 {
		t.Errorf("ignored fields: %d %v", status, out)
	}
	if n := app.countLinks(t); n != 1 {
		t.Errorf("%d links, want only the accepted one", n)
	}
}

func TestShlinkAuthAndRoutes(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	cases := []struct {
		key, method, path string
		status            int
		problemType       string
	}{
		{"", "GET", "/rest/v3/short-urls", 401, "https://shlink.io/api/error/missing-authentication"},
		{"wrong", "GET", "/rest/v3/short-urls", 401, "https://shlink.io/api/error/invalid-api-key"},
		{"Bearer " + testToken, "GET", "/rest/v3/visits", 401, "https://shlink.io/api/error/invalid-api-key"},
		{"second-token", "GET", "/rest/v3/visits", 200, ""},
		{"", "GET", "/rest/health", 200, ""},
		{"", "GET", "/rest/v3/health", 200, ""},
		{testToken, "GET", "/rest/v3/tags", 404, "https://shlink.io/api/error/not-found"},
		{testToken, "GET", "/rest/v3/short-urls/nosuch", 404, "https://shlink.io/api/error/short-url-not-found"},
		{testToken, "GET", "/rest/v3/short-urls/bad-code!", 404, "https://shlink.io/api/error/short-url-not-found"},
		{testToken, "DELETE", "/rest/v3/short-urls/nosuch", 404, "https://shlink.io/api/error/short-url-not-found"},
		{testToken, "GET", "/rest/v3/short-urls?orderBy=title-ASC", 400, "https://shlink.io/api/error/invalid-data"},
		{testToken, "GET", "/rest/v3/short-urls?page=0", 400, "https://shlink.io/api/error/invalid-data"},
		{testToken, "GET", "/rest/v3/short-urls?startDate=2020-01-01", 400, "https://shlink.io/api/error/invalid-data"},
		{testToken, "PUT", "/rest/v3/short-urls", 405, "about:blank"},
	}
	for _, tc := range cases {
		status, out := app.shlink(t, tc.key, tc.method, tc.path, "")
		if status != tc.status || tc.problemType != "" && out["type"] != tc.problemType {
			t.Errorf("%s %s (key %q): %d %v, want %d %s", tc.method, tc.path, tc.key, status, out, tc.status, tc.problemType)
		}
	}
	if _, out := app.shlink(t, testToken, "GET", "/rest/v3/tags", ""); !strings.Contains(out["detail"].(string), "no such API route") {
		t.Errorf("unknown route: %v, want it to say there is no such API route", out)
	}
}

func TestShlinkListPages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for _, u := range []string{"https://a.example.com/1", "https://a.example.com/2", "https://a.example.com/3"} {
		app.shlink(t, testToken, "POST", "/rest/v3/short-urls", `{"longUrl":"`+u+`"}`)
	}
	_, retired := app.shlink(t, testToken, "POST", "/rest/v3/short-urls", `{"longUrl":"https://a.example.com/4"}`)
	app.shlink(t, testToken, "DELETE", "/rest/v3/short-urls/"+retired["shortCode"].(string), "")

	status, out := app.shlink(t, testToken, "GET", "/rest/v3/short-urls?itemsPerPage=2&page=2&orderBy=dateCreated-ASC", "")
	page, _ := out["shortUrls"].(map[string]any)
	data, _ := page["data"].([]any)
	p, _ := page["pagination"].(map[string]any)
	if status != 200 || len(data) != 1 || data[0].(map[string]any)["longUrl"] != "https://a.example.com/3" ||
		p["totalItems"] != 3.0 || p["pagesCount"] != 2.0 || p["currentPage"] != 2.0 || p["itemsInCurrentPage"] != 1.0 {
		t.Errorf("page 2 of 2, oldest first, retired link left out: %d %v", status, out)
	}
	if _, out := app.shlink(t, testToken, "GET", "/rest/v3/short-urls?tags[]=x", ""); len(out["shortUrls"].(map[string]any)["data"].([]any)) != 0 {
		t.Errorf("tag filter: %v, want nothing (links have no tags)", out)
	}
}
