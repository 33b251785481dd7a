package handlers_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The document and Echo's route table under /api/v1 list exactly the same
// operations: a route added without documentation, or documentation left
// for a route that is gone, fails here.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	d, err := apiDocument()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range d.doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	param := regexp.MustCompile(`:(\w+)`)
	routed := map[string]bool{}
	for _, r := range app.H.NewServer().Routes() {
		if r.Path == "/api/v1" || strings.HasPrefix(r.Path, "/api/v1/") {
			routed[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
		}
	}
	for _, op := range sortedKeys(routed) {
		if !documented[op] {
			t.Errorf("route %s is not in handlers/api/openapi.json", op)
		}
	}
	for _, op := range sortedKeys(documented) {
		if !routed[op] {
			t.Errorf("handlers/api/openapi.json describes %s, which no route serves", op)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Anyone may read the document, and what is served is the file the tests
// validate against.
func TestOpenAPIServedWithoutToken(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	resp, err := http.Get(app.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	served, _ := io.ReadAll(resp.Body)
	want, _ := os.ReadFile("api/openapi.json")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !bytes.Equal(served, want) {
		t.Errorf("GET /api/v1/openapi.json: %d %q, %d bytes; want 200 JSON with handlers/api/openapi.json", resp.StatusCode, resp.Header.Get("Content-Type"), len(served))
	}
}

// The validator the harness installs does catch an answer or a request
// that the document does not allow (so the tests passing through it mean
// something).
func TestOpenAPIValidatorCatchesDrift(t *testing.T) {
	t.Parallel()
	d, err := apiDocument()
	if err != nil {
		t.Fatal(err)
	}
	link := `{"slug":"aB3dE9","short_url":"http://x/aB3dE9","destination_url":"https://a.example.com/","link_type":"site_preview",` +
		`"business_id":null,"site_id":null,"is_active":true,"click_count":0,"preview_count":0,"created_at":"2026-11-30T09:12:44Z"`
	json := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		respBody                       string
		wantErr                        bool
	}{
		{"documented answer", "GET", "/api/v1/links/aB3dE9", "Bearer t", "", 200, link + "}", false},
		{"undocumented field", "GET", "/api/v1/links/aB3dE9", "Bearer t", "", 200, link + `,"secret":1}`, true},
		{"missing field", "GET", "/api/v1/links/aB3dE9", "Bearer t", "", 200, `{"slug":"aB3dE9"}`, true},
		{"undocumented status", "GET", "/api/v1/links/aB3dE9", "Bearer t", "", 409, `{"error":{"code":"conflict","message":"x"}}`, true},
		{"error shape", "GET", "/api/v1/links/aB3dE9", "Bearer t", "", 404, `{"message":"not found"}`, true},
		{"no token yet 200", "GET", "/api/v1/links/aB3dE9", "", "", 200, link + "}", true},
		{"bad body yet 201", "POST", "/api/v1/links", "Bearer t", `{"destination_url":42}`, 201, link + "}", true},
		{"bad body refused", "POST", "/api/v1/links", "Bearer t", `{"destination_url":42}`, 400, `{"error":{"code":"invalid_input","message":"x","field":"destination_url"}}`, false},
		{"unknown route answered", "GET", "/api/v1/nope", "Bearer t", "", 200, `{}`, true},
		{"unknown route refused", "GET", "/api/v1/nope", "Bearer t", "", 404, `{"error":{"code":"not_found","message":"no such API route"}}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://127.0.0.1:1"+tc.path, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			err := checkExchange(d.router, req, tc.status, json, []byte(tc.respBody))
			if (err != nil) != tc.wantErr {
				t.Errorf("validation error %v, want error: %t", err, tc.wantErr)
			}
		})
	}
}

// Unknown paths under /api/v1/ say there is no such API route, in the
// API's JSON; a known path with a wrong method is 405, not 404.
func TestUnknownAPIRoutes(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for _, path := range []string{"/api/v1/nothing", "/api/v1/", "/api/v2/links", "/api/v1/links/abc/nope"} {
		status, body := app.api(t, "GET", path, nil)
		if status != 404 || errorOf(body, "code") != "not_found" || !strings.Contains(errorOf(body, "message"), "no such API route") {
			t.Errorf("GET %s: %d %v, want 404 saying no such API route", path, status, body)
		}
	}
	if status, body := app.api(t, "DELETE", "/api/v1/links/abc", nil); status != http.StatusMethodNotAllowed || errorOf(body, "code") == "" {
		t.Errorf("DELETE /api/v1/links/abc: %d %v, want 405 JSON", status, body)
	}
}

// /api/docs shows every operation of the document (HEAD aside) and loads
// nothing from elsewhere, under the same CSP as every page.
func TestAPIDocsPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	resp, err := http.Get(app.URL + "/api/docs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("GET /api/docs: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	page, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	page.Find("[data-operation]").Each(func(_ int, s *goquery.Selection) { shown[s.AttrOr("data-operation", "")] = true })
	d, _ := apiDocument()
	for path, item := range d.doc.Paths.Map() {
		for method := range item.Operations() {
			if method != "HEAD" && !shown[method+" "+path] {
				t.Errorf("%s %s is not on the page", method, path)
			}
		}
	}
	if !strings.Contains(page.Find("#POST-\\/api\\/v1\\/links").Text(), "CreateLinkRequest") {
		t.Errorf("POST /api/v1/links does not name its body schema")
	}
	// Markdown is rendered: no raw backticks or asterisks, code in <code>.
	if text := page.Find("main").Text(); strings.Contains(text, "`") || strings.Contains(text, "**") {
		i := strings.IndexAny(text, "`*")
		t.Errorf("raw Markdown on the page: %q", text[max(0, i-60):min(len(text), i+60)])
	}
	if page.Find("td code").FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "API_TOKEN_RATE_LIMIT" }).Length() == 0 {
		t.Error("the 429 description does not name API_TOKEN_RATE_LIMIT as code")
	}
	// The contents list links every operation, and the corner link leads to it.
	targets := map[string]bool{}
	page.Find("#contents a").Each(func(_ int, s *goquery.Selection) { targets[s.AttrOr("href", "")] = true })
	page.Find("[data-operation], [id^=schema-]").Each(func(_ int, s *goquery.Selection) {
		if id := s.AttrOr("id", ""); !targets["#"+id] {
			t.Errorf("the contents do not link #%s", id)
		}
	})
	if page.Find("a.toc-jump[href='#contents']").Length() != 1 {
		t.Error("no Contents link to come back to the list")
	}
	page.Find("script[src], link[href], img[src]").Each(func(_ int, s *goquery.Selection) {
		if u := s.AttrOr("src", s.AttrOr("href", "")); !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
			t.Errorf("the page loads %q from elsewhere", u)
		}
	})
}
