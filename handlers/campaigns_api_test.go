package handlers_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/handlers/campaign"
)

func previewBody(businessID, variant string) map[string]any {
	return map[string]any{"business_id": businessID, "variant": variant}
}

// The original bug, through the API: 3 variants × 50 concurrent previews of
// one business must all embed the one link.
func TestPreviewSMSConcurrentVariantsShareOneLink(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	const perVariant = 50
	type answer struct {
		status                 int
		variant, slug, message string
		shortURL               string
	}
	answers := make([]answer, 0, perVariant*len(campaign.Variants()))
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for range perVariant {
		for _, v := range campaign.Variants() {
			wg.Go(func() {
				<-start
				status, body := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(b.ID, v))
				a := answer{status: status}
				a.variant, _ = body["variant"].(string)
				a.slug, _ = body["slug"].(string)
				a.message, _ = body["message"].(string)
				a.shortURL, _ = body["short_url"].(string)
				if a.variant != v {
					t.Errorf("asked for %s, got variant %q", v, a.variant)
				}
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			})
		}
	}
	close(start)
	wg.Wait()
	first := answers[0]
	for i, a := range answers {
		if a.status != http.StatusOK || a.slug == "" || a.slug != first.slug {
			t.Fatalf("answer %d: status %d slug %q, answer 0 has slug %q", i, a.status, a.slug, first.slug)
		}
		if a.shortURL != app.URL+"/"+a.slug || !strings.Contains(a.message, a.shortURL+" ") {
			t.Fatalf("answer %d: message %q does not embed short_url %q", i, a.message, a.shortURL)
		}
	}
	if n := app.activeLinksTo(t, "https://rosas.example.com/"); n != 1 || app.countLinks(t) != 1 {
		t.Errorf("%d active links for the site and %d rows in all; want exactly 1 and 1", n, app.countLinks(t))
	}
	link, err := app.Store.FindBySlug(context.Background(), first.slug)
	if err != nil || link.LinkType != db.LinkTypeSitePreview || deref(link.BusinessID) != b.ID || deref(link.SiteID) != deref(b.SiteID) {
		t.Errorf("the link: %+v %v, want a site_preview link of the business and its site", link, err)
	}
}

// The preview reuses a link made earlier through POST /links for an
// equivalent spelling of the site URL rather than making a second one.
func TestPreviewSMSReusesExistingLink(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.addBusiness(t, "Iron Temple Gym", "Phoenix", "https://gym.example.com/")
	_, made := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "HTTPS://GYM.example.com:443"})
	status, p := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(b.ID, "urgent"))
	if status != 200 || p["slug"] != made["slug"] || app.countLinks(t) != 1 {
		t.Errorf("preview: %d slug %v, POST /links made %v; %d links", status, p["slug"], made["slug"], app.countLinks(t))
	}
}

func TestPreviewSMSRejectsBadInput(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.addBusiness(t, "Zen Garden Spa", "Santa Fe", "https://zen.example.com/")
	noSite := app.addBusiness(t, "Ghost Shop", "Nowhere", "https://ghost.example.com/")
	app.Store.DB().MustExec(`DELETE FROM sites WHERE business_id = $1`, noSite.ID)
	missing := "00000000-0000-4000-8000-000000000000"
	cases := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"unknown business", `{"business_id":"` + missing + `","variant":"friendly"}`, 404, "not_found", ""},
		{"business not a uuid", `{"business_id":"42; DROP TABLE businesses","variant":"friendly"}`, 400, "invalid_input", "business_id"},
		{"business missing", `{"variant":"friendly"}`, 400, "invalid_input", "business_id"},
		{"business empty", `{"business_id":"","variant":"friendly"}`, 400, "invalid_input", "business_id"},
		{"business wrong type", `{"business_id":7,"variant":"friendly"}`, 400, "invalid_input", "business_id"},
		{"variant missing", `{"business_id":"` + b.ID + `"}`, 400, "invalid_input", "variant"},
		{"unknown variant", `{"business_id":"` + b.ID + `","variant":"casual"}`, 400, "invalid_input", "variant"},
		{"variant is case-sensitive", `{"business_id":"` + b.ID + `","variant":"Friendly"}`, 400, "invalid_input", "variant"},
		{"unknown field", `{"business_id":"` + b.ID + `","variant":"friendly","message":"mine"}`, 400, "invalid_input", "message"},
		{"empty body", ``, 400, "invalid_input", ""},
		{"not an object", `["friendly"]`, 400, "invalid_input", ""},
		{"business without a site", `{"business_id":"` + noSite.ID + `","variant":"urgent"}`, 422, "no_site", "business_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := app.api(t, "POST", "/api/v1/campaigns/preview-sms", tc.body)
			if status != tc.status || errorOf(body, "code") != tc.code || errorOf(body, "field") != tc.field || errorOf(body, "message") == "" {
				t.Errorf("got %d %v, want %d %s naming field %q", status, body, tc.status, tc.code, tc.field)
			}
		})
	}
	_, body := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(b.ID, "casual"))
	e, _ := body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if allowed, _ := e["allowed"].([]any); len(allowed) != 3 || !strings.Contains(msg, "friendly, professional, urgent") {
		t.Errorf("unknown variant error %v should list the valid variants", e)
	}
	if n := app.countLinks(t); n != 0 {
		t.Errorf("bad input created %d links", n)
	}
	req, _ := http.NewRequest("POST", app.URL+"/api/v1/campaigns/preview-sms", strings.NewReader(`{"business_id":"`+b.ID+`","variant":"friendly"}`))
	if status, _ := doJSON(t, req); status != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", status)
	}
}

// The cost is exact decimal arithmetic: 3 × 0.0079 is written 0.0237.
func TestPreviewSMSCostIsExact(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) {
		c.BaseURL = "https://sl.example"
		c.SMSTemplates = campaign.Templates{"friendly": "{name}: {url}", "professional": "{name}: {url}", "urgent": "{name}: {url}"}
	})
	b := app.addBusiness(t, strings.Repeat("a", 300), "", "https://long.example.com/") // 327 septets: 3 segments
	req, _ := http.NewRequest("POST", app.URL+"/api/v1/campaigns/preview-sms", strings.NewReader(`{"business_id":"`+b.ID+`","variant":"friendly"}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), `"segments":3,`) || !strings.Contains(string(raw), `"estimated_cost":0.0237,"currency":"USD"`) {
		t.Errorf("body %s, want 3 segments costing exactly 0.0237 USD", raw)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
