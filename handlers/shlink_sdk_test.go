package handlers_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The official Shlink JS SDK (@shlinkio/shlink-js-sdk, run by the
// machine's Node.js) works against this server: find-or-create, search,
// get, visits, delete, health, and a wrong key surfacing as Shlink's 401
// problem details. handlers/testdata/shlink/sdk_flow.mjs makes the calls.
func TestShlinkJSSDK(t *testing.T) {
	t.Parallel()
	dir := sdkDir(t)
	app := newTestApp(t)
	const longURL = "https://rosas-bakery.example.com/spring-menu"
	// A campaign link made through our own API, tapped twice by a person
	// and once by a link previewer, before any Shlink client shows up.
	status, made := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": longURL, "link_type": "campaign"})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, made)
	}
	slug := made["slug"].(string)
	request(t, "GET", app.URL+"/"+slug, "Mozilla/5.0 (iPhone)")
	request(t, "GET", app.URL+"/"+slug, "Mozilla/5.0 (iPhone)")
	request(t, "HEAD", app.URL+"/"+slug, "Mozilla/5.0 (iPhone)")
	if !pollUntil(10*time.Second, func() bool { c, p, _ := app.counts(t, slug); return c == 2 && p == 1 }) {
		t.Fatal("the taps were never flushed")
	}

	res := runSDKFlow(t, dir, "SHLINK_BASE_URL="+app.URL, "SHLINK_API_KEY="+testToken,
		"LONG_URL="+longURL, "OTHER_URL=https://other.example.com/", "SEARCH_TERM=rosas-bakery")
	var health struct{ Status string }
	res.ok(t, "health", &health)
	var first, second, fetched shortURL
	res.ok(t, "first", &first)
	res.ok(t, "second", &second)
	res.ok(t, "get", &fetched)
	if health.Status != "pass" || first.ShortCode != slug || second.ShortCode != slug || fetched.ShortCode != slug || fetched.LongURL != longURL {
		t.Errorf("health %q; findIfExists gave %q then %q, get %q %q; want the existing link %q", health.Status, first.ShortCode, second.ShortCode, fetched.ShortCode, fetched.LongURL, slug)
	}
	if s := first.VisitsSummary; s.Total != 3 || s.NonBots != 2 || s.Bots != 1 {
		t.Errorf("visitsSummary %+v, want 3 visits: 2 people, 1 previewer", s)
	}
	checkSDKListAndVisits(t, res, slug)
	checkSDKErrors(t, res)
	if resp, _ := request(t, "GET", app.URL+"/"+slug, "Mozilla/5.0"); resp.StatusCode != http.StatusGone {
		t.Errorf("tapping a deleted short URL: %d, want 410", resp.StatusCode)
	}
	if n := app.countLinks(t); n != 2 {
		t.Errorf("%d links exist, want 2 (the campaign link and the other URL)", n)
	}
}

// sdkResults is what each SDK call of sdk_flow.mjs returned or threw.
type sdkResults map[string]struct {
	OK    json.RawMessage `json:"ok"`
	Error *problem        `json:"error"`
}

// runSDKFlow runs sdk_flow.mjs with env added to the environment.
func runSDKFlow(t *testing.T, dir string, env ...string) sdkResults {
	t.Helper()
	cmd := exec.Command("node", "sdk_flow.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("node sdk_flow.mjs: %v\n%s", err, stderrOf(err))
	}
	t.Logf("SDK: %s", raw)
	var res sdkResults
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("SDK output %q: %v", raw, err)
	}
	return res
}

// ok decodes what call returned; it fails the test if the call threw.
func (r sdkResults) ok(t *testing.T, call string, into any) {
	t.Helper()
	if r[call].Error != nil || json.Unmarshal(r[call].OK, into) != nil {
		t.Fatalf("%s: threw %+v, returned %s", call, r[call].Error, r[call].OK)
	}
}

func checkSDKListAndVisits(t *testing.T, res sdkResults, slug string) {
	t.Helper()
	var list struct {
		Data       []shortURL
		Pagination struct{ TotalItems, CurrentPage int }
	}
	res.ok(t, "list", &list)
	if len(list.Data) != 1 || list.Data[0].ShortCode != slug || list.Pagination.TotalItems != 1 {
		t.Errorf("search rosas-bakery: %+v, want only %s", list, slug)
	}
	var visits struct {
		Data       []any
		Pagination map[string]int
	}
	res.ok(t, "visits", &visits)
	if visits.Data == nil || len(visits.Data) != 0 || visits.Pagination == nil {
		t.Errorf("visits: %s, want an empty page with pagination", res["visits"].OK)
	}
	var overview struct {
		NonOrphanVisits struct{ Total, NonBots, Bots int }
	}
	res.ok(t, "overview", &overview)
	if o := overview.NonOrphanVisits; o.Total != 3 || o.NonBots != 2 || o.Bots != 1 {
		t.Errorf("overview %+v, want 3 = 2 + 1", o)
	}
}

func checkSDKErrors(t *testing.T, res sdkResults) {
	t.Helper()
	if e := res["expiring"].Error; e == nil || e.Status != 400 || e.Type != "https://shlink.io/api/error/invalid-data" || len(e.InvalidElements) != 1 || e.InvalidElements[0] != "validUntil" {
		t.Errorf("validUntil: %+v, want a 400 invalid-data naming validUntil", e)
	}
	if res["delete"].Error != nil {
		t.Errorf("delete threw %+v", res["delete"].Error)
	}
	if e := res["afterDelete"].Error; e == nil || e.Status != 404 || e.Type != "https://shlink.io/api/error/short-url-not-found" {
		t.Errorf("get after delete: %+v, want 404 short-url-not-found", e)
	}
	if e := res["wrongKey"].Error; e == nil || e.Status != 401 || e.Type != "https://shlink.io/api/error/invalid-api-key" || e.Title == "" || e.Detail == "" {
		t.Errorf("wrong key: %+v, want 401 invalid-api-key problem details", e)
	}
}

// problem is an RFC 7807 problem as Shlink returns it.
type problem struct {
	Type, Title, Detail string
	Status              int
	InvalidElements     []string
	ShortCode           string
}

type shortURL struct {
	ShortCode, ShortURL, LongURL string
	VisitsSummary                struct{ Total, NonBots, Bots int }
}

// sdkDir returns handlers/testdata/shlink with its node_modules installed
// (npm ci from the committed lock file when missing). Without Node.js the
// test is skipped, except in CI, where it must run.
func sdkDir(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("testdata", "shlink"))
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@shlinkio", "shlink-js-sdk")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return dir
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
