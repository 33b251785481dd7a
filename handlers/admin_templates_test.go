package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// A marketer edits a template in the console: a bad one is refused with the
// reason tied to the field, a good one changes the next preview (and the
// API's), and Reset brings back the configured default.
func TestEditMessageTemplate(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	biz := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	b := app.signedIn(t)
	_, before := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(biz.ID, "urgent"))

	_, doc := b.get("/admin/templates")
	token := csrf(t, doc)
	for body, want := range map[string]string{
		"Last call {name}!":                  "must contain {url}",
		"Hi {nmae} in {cty}: {url}":          "Unknown placeholders {nmae}, {cty}",
		strings.Repeat("x", 1001) + " {url}": "at most 1000",
		"   ":                                "Template is empty",
		"Hi \x1b[1m{name}\x01: {url}":        "U+001B at character 4, U+0001 at character 14",
		"{{url}} {url}}":                     "{ at character 1, } at character 7, } at character 14",
	} {
		resp, doc := b.post("/admin/templates/urgent", url.Values{"csrf_token": {token}, "body": {body}})
		field := doc.Find("#tmpl-urgent")
		errText := doc.Find("#" + strings.Fields(field.AttrOr("aria-describedby", "x"))[0]).Text()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(errText, want) || field.AttrOr("aria-invalid", "") != "true" {
			t.Errorf("template %.30q: %d, error %q tied to the field (aria-invalid %q); want 400 saying %q",
				body, resp.StatusCode, errText, field.AttrOr("aria-invalid", ""), want)
		}
	}
	// Every problem of one template at once, each its own item next to the field.
	_, doc = b.post("/admin/templates/urgent", url.Values{"csrf_token": {token}, "body": {"Hi \x1b{nmae} {{x"}})
	if items := doc.Find("#error-urgent li"); items.Length() != 4 {
		t.Errorf("a template with four problems lists %d next to the field: %q", items.Length(), doc.Find("#error-urgent").Text())
	}
	_, after := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(biz.ID, "urgent"))
	if after["message"] != before["message"] {
		t.Fatalf("a refused template changed the preview to %q", after["message"])
	}

	resp, _ := b.post("/admin/templates/urgent", url.Values{"csrf_token": {token}, "body": {"Last call, {name} of {city}: {url}\r\nReply STOP to opt out"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving a good template: %d, want 303", resp.StatusCode)
	}
	_, after = app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(biz.ID, "urgent"))
	want := "Last call, Rosa's Bakery of Austin: " + after["short_url"].(string) + "\nReply STOP to opt out"
	if after["message"] != want {
		t.Errorf("preview after the edit: %q, want %q", after["message"], want)
	}
	if _, page := b.get("/admin/campaigns/" + biz.ID + "?variant=urgent"); page.Find(".bubble").Text() != want {
		t.Errorf("the preview page shows %q, want the edited template", page.Find(".bubble").Text())
	}
	_, friendly := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(biz.ID, "friendly"))
	if !strings.HasPrefix(friendly["message"].(string), "Hi Rosa's Bakery!") {
		t.Errorf("editing urgent changed friendly: %q", friendly["message"])
	}

	resp, _ = b.post("/admin/templates/urgent", url.Values{"csrf_token": {token}, "action": {"reset"}})
	_, after = app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(biz.ID, "urgent"))
	if resp.StatusCode != http.StatusSeeOther || after["message"] != before["message"] {
		t.Errorf("reset: %d, preview %q; want the default %q back", resp.StatusCode, after["message"], before["message"])
	}
	if resp, _ := b.post("/admin/templates/urgent", url.Values{"body": {"x {url}"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("saving without a CSRF token: %d, want 403", resp.StatusCode)
	}
}

// The live counter agrees with arithmetic done here by hand: GSM-7 holds
// 160 septets in one SMS and 153 per part; one character outside GSM-7
// makes the whole text UCS-2, 70 in one and 67 per part.
func TestTemplateCounter(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.signedIn(t)
	_, doc := b.get("/admin/templates")
	token := csrf(t, doc)
	shortURL := app.URL + "/Ab3dE5" // the counter's sample link
	ceil := func(a, b int) int { return (a + b - 1) / b }
	for _, tc := range []struct {
		body             string
		units            int
		encoding         string
		segments, perSeg int
	}{
		{"{url}", len(shortURL), "GSM-7", 1, 160},
		{"{url} " + strings.Repeat("x", 159-len(shortURL)), 160, "GSM-7", 1, 160},
		{"{url} " + strings.Repeat("x", 160-len(shortURL)), 161, "GSM-7", 2, 153},
		{"{url} " + strings.Repeat("x", 300), len(shortURL) + 301, "GSM-7", ceil(len(shortURL)+301, 153), 153},
		{"{url} €", len(shortURL) + 3, "GSM-7", 1, 160}, // € is an escape: 2 septets
		{"{url} ç", len(shortURL) + 2, "UCS-2", 1, 70},
		{"{url} ç" + strings.Repeat("x", 68-len(shortURL)), 70, "UCS-2", 1, 70},
		{"{url} ç" + strings.Repeat("x", 69-len(shortURL)), 71, "UCS-2", 2, 67},
		{"{url} 🎉" + strings.Repeat("x", 100), len(shortURL) + 1 + 2 + 100, "UCS-2", ceil(len(shortURL)+103, 67), 67},
	} {
		resp, doc := b.post("/admin/templates/friendly/count", url.Values{"csrf_token": {token}, "body": {tc.body}})
		units, enc, segs := doc.Find(".characters").Text(), doc.Find(".encoding").Text(), doc.Find(".segments").Text()
		wantUnits := strings.Fields(units)
		if resp.StatusCode != http.StatusOK || len(wantUnits) < 2 || wantUnits[1] != "("+strconv.Itoa(tc.units) || enc != tc.encoding ||
			!strings.HasPrefix(segs, strconv.Itoa(tc.segments)+" ") || !strings.Contains(segs, "up to "+strconv.Itoa(tc.perSeg)+" ") {
			t.Errorf("%.20q…: %d, characters %q, encoding %q, segments %q; want %d units, %s, %d segments of %d",
				tc.body, resp.StatusCode, units, enc, segs, tc.units, tc.encoding, tc.segments, tc.perSeg)
		}
	}
	_, doc = b.post("/admin/templates/friendly/count", url.Values{"csrf_token": {token}, "body": {"Hi {nmae}"}})
	if msg := doc.Find("[data-count-error]").Text(); !strings.Contains(msg, "{nmae}") {
		t.Errorf("counter for a bad template says %q, want the unknown placeholder named", msg)
	}
}
