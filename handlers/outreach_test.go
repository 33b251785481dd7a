package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// postCSV sends a CSV to the import endpoint.
func (a *testApp) postCSV(t *testing.T, query, key, csv string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", a.URL+"/api/v1/businesses/import"+query, strings.NewReader(csv))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "text/csv")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return doJSON(t, req)
}

// rejections are the (line, column) pairs of an import answer.
func rejections(out map[string]any) []string {
	var got []string
	rej, _ := out["rejected"].([]any)
	for _, r := range rej {
		m := r.(map[string]any)
		got = append(got, fmt.Sprintf("%v:%v", m["line"], m["column"]))
	}
	return got
}

// A file with bad rows imports nothing and lists each one; partial=true
// imports the good ones; a re-import updates instead of duplicating.
func TestImportBusinessesAPI(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	csv := "phone,name,site_url,external_id,city\n" +
		"(512) 555-0134,Rosa's Bakery,https://rosas.example.com/,crm-1,Austin\n" +
		"512-555-0199,,https://noname.example.com/,crm-2,Austin\n" +
		"555,Bad Phone,https://badphone.example.com/,crm-3,\n" +
		"+44 20 7946 0018,Luna,https://luna.example.com/,crm-4,London\n"
	status, out := app.postCSV(t, "", "", csv)
	if status != http.StatusUnprocessableEntity || out["imported"] != 0.0 || out["updated"] != 0.0 ||
		strings.Join(rejections(out), " ") != "3:name 4:phone" {
		t.Fatalf("bad rows: %d %v; want 422 with lines 3 (name) and 4 (phone), nothing imported", status, out)
	}
	if n := app.countRows(t, "businesses"); n != 0 {
		t.Fatalf("%d businesses after a refused import", n)
	}
	status, out = app.postCSV(t, "?partial=true", "imp-1", csv)
	if status != http.StatusOK || out["imported"] != 2.0 || len(rejections(out)) != 2 {
		t.Fatalf("partial: %d %v; want 200, 2 imported, 2 rejected", status, out)
	}
	// The same key again: nothing more.
	if status, again := app.postCSV(t, "?partial=true", "imp-1", csv); status != http.StatusOK || again["imported"] != 2.0 {
		t.Fatalf("repeat: %d %v", status, again)
	}
	if n := app.countRows(t, "businesses"); n != 2 {
		t.Fatalf("%d businesses after an import and its repeat, want 2", n)
	}
	// Re-import by external_id, and by phone without one.
	status, out = app.postCSV(t, "", "", "name,site_url,external_id,phone\n"+
		"Rosa's Bakery & Café,https://rosas.example.com/,crm-1,\n"+
		"Luna London,https://luna.example.com/,,+442079460018\n")
	if status != http.StatusOK || out["imported"] != 0.0 || out["updated"] != 2.0 {
		t.Fatalf("re-import: %d %v; want 2 updated", status, out)
	}
	_, list := app.api(t, "GET", "/api/v1/businesses", nil)
	bs, _ := list["businesses"].([]any)
	if len(bs) != 2 {
		t.Fatalf("list %v", list)
	}
	first := bs[0].(map[string]any)
	if first["name"] != "Luna London" || first["phone"] != "+442079460018" || first["status"] != "not_sent" {
		t.Errorf("first business %v", first)
	}
	// Header faults are named; unknown parameters too.
	for _, c := range []struct{ csv, want string }{
		{"name,site_url,email\nA,https://a.example.com/,a@b\n", "1:email"},
		{"", "1:"},
		{"city\nAustin\n", "1:name 1:site_url"},
	} {
		if status, out := app.postCSV(t, "", "", c.csv); status != http.StatusUnprocessableEntity || strings.Join(rejections(out), " ") != c.want {
			t.Errorf("header %q: %d %v, want 422 %s", c.csv, status, rejections(out), c.want)
		}
	}
	if status, out := app.postCSV(t, "?partial=maybe", "", csv); status != http.StatusBadRequest || errorOf(out, "field") != "partial" {
		t.Errorf("partial=maybe: %d %v", status, out)
	}
}

// Phones are stored in E.164; a number that does not validate is a 400
// naming phone; adding a second business with the same phone warns.
func TestBusinessPhones(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	status, out := app.api(t, "POST", "/api/v1/businesses", map[string]any{"name": "Rosa", "site_url": "https://rosa.example.com/", "phone": "(512) 555-0134"})
	if status != http.StatusCreated || out["phone"] != "+15125550134" {
		t.Fatalf("create: %d %v", status, out)
	}
	status, out = app.api(t, "POST", "/api/v1/businesses", map[string]any{"name": "Bad", "site_url": "https://bad.example.com/", "phone": "12"})
	if status != http.StatusBadRequest || errorOf(out, "field") != "phone" {
		t.Errorf("bad phone: %d %v, want 400 naming phone", status, out)
	}
	status, out = app.api(t, "POST", "/api/v1/businesses", map[string]any{"name": "Rosa again", "site_url": "https://other.example.com/", "phone": "+1 512 555 0134"})
	warnings, _ := out["warnings"].([]any)
	if status != http.StatusCreated || len(warnings) != 1 || !strings.Contains(fmt.Sprint(warnings[0]), "Rosa already has this phone number") {
		t.Errorf("duplicate phone: %d %v, want a warning naming Rosa", status, out)
	}
	status, out = app.api(t, "POST", "/api/v1/businesses", map[string]any{"name": "No phone", "site_url": "https://nophone.example.com/"})
	if status != http.StatusCreated || out["phone"] != nil {
		t.Errorf("no phone: %d phone=%v, want null", status, out["phone"])
	}
}

// Opting out makes a send a 409 (and the status opted_out); opting back
// in explicitly allows it again. A voided send leaves the results.
func TestOptOutAndVoidThroughTheAPI(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.addBusiness(t, "Iron Temple", "Phoenix", "https://iron.example.com/")
	status, send := app.mustPost(t, "/api/v1/campaigns/sends", "s1", previewBody(b.ID, "friendly"))
	if status != http.StatusCreated {
		t.Fatalf("send: %d %v", status, send)
	}
	if send["sent_by"] != "API_TOKEN" {
		t.Errorf("a send recorded through the API says it was sent by %v, want the bootstrap key, API_TOKEN", send["sent_by"])
	}
	if _, got := app.api(t, "GET", "/api/v1/businesses/"+b.ID, nil); got["status"] != "sent" {
		t.Errorf("after a send: status %v", got["status"])
	}
	if status, out := app.api(t, "POST", "/api/v1/businesses/"+b.ID+"/opt-out", nil); status != http.StatusOK || out["status"] != "opted_out" {
		t.Fatalf("opt-out: %d %v", status, out)
	}
	if status, out := app.mustPost(t, "/api/v1/campaigns/sends", "s2", previewBody(b.ID, "urgent")); status != http.StatusConflict || errorOf(out, "code") != "opted_out" {
		t.Errorf("send after opt-out: %d %v, want 409 opted_out", status, out)
	}
	_, page := app.api(t, "GET", "/api/v1/businesses?status=opted_out", nil)
	if bs, _ := page["businesses"].([]any); len(bs) != 1 {
		t.Errorf("?status=opted_out: %v", page)
	}
	if status, out := app.api(t, "DELETE", "/api/v1/businesses/"+b.ID+"/opt-out", nil); status != http.StatusOK || out["status"] != "sent" {
		t.Fatalf("opt back in: %d %v", status, out)
	}

	id := send["id"].(string)
	if status, out := app.api(t, "POST", "/api/v1/campaigns/sends/"+id+"/void", map[string]any{}); status != http.StatusBadRequest || errorOf(out, "field") != "reason" {
		t.Errorf("void without reason: %d %v", status, out)
	}
	status, voided := app.api(t, "POST", "/api/v1/campaigns/sends/"+id+"/void", map[string]any{"reason": "never texted"})
	if status != http.StatusOK || voided["voided_at"] == nil || voided["void_reason"] != "never texted" {
		t.Fatalf("void: %d %v", status, voided)
	}
	_, results := app.api(t, "GET", "/api/v1/campaigns/results", nil)
	for _, v := range results["variants"].([]any) {
		if m := v.(map[string]any); m["sends"] != 0.0 || m["businesses_sent"] != 0.0 {
			t.Errorf("results count a voided send: %v", m)
		}
	}
	if _, got := app.api(t, "GET", "/api/v1/businesses/"+b.ID, nil); got["status"] != "not_sent" {
		t.Errorf("after voiding the only send: status %v", got["status"])
	}
	if status, _ := app.api(t, "POST", "/api/v1/campaigns/sends/00000000-0000-0000-0000-000000000000/void", map[string]any{"reason": "x"}); status != http.StatusNotFound {
		t.Errorf("void of an unknown send: %d", status)
	}
	// Each change has its audit row, by the key that made it; the refused
	// void left none.
	for action, object := range map[string]string{"business.opted_out": b.ID, "business.opted_in": b.ID, "send.voided": id, "send.recorded": id} {
		_, trail := app.api(t, "GET", "/api/v1/audit?action="+action, nil)
		entries, _ := trail["entries"].([]any)
		if len(entries) != 1 {
			t.Errorf("audit %s: %d rows, want 1: %v", action, len(entries), trail)
			continue
		}
		if e := entries[0].(map[string]any); e["actor"] != "API_TOKEN" || e["object_id"] != object {
			t.Errorf("audit %s: %v", action, e)
		}
	}
}

// The businesses list is one page shape with a cursor; unknown or bad
// parameters are refused by name.
func TestBusinessesListPages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for i := range 5 {
		app.addBusiness(t, fmt.Sprintf("Business %d", i), "", fmt.Sprintf("https://b%d.example.com/", i))
	}
	var names []string
	path := "/api/v1/businesses?limit=2"
	for range 4 {
		status, page := app.api(t, "GET", path, nil)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %v", path, status, page)
		}
		for _, b := range page["businesses"].([]any) {
			names = append(names, b.(map[string]any)["name"].(string))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/api/v1/businesses?limit=2&cursor=" + url.QueryEscape(next)
	}
	if strings.Join(names, ",") != "Business 0,Business 1,Business 2,Business 3,Business 4" {
		t.Errorf("walked %v", names)
	}
	for param, field := range map[string]string{"offset=2": "offset", "cursor=garbage": "cursor", "status=done": "status", "limit=0": "limit"} {
		if status, out := app.api(t, "GET", "/api/v1/businesses?"+param, nil); status != http.StatusBadRequest || errorOf(out, "field") != field {
			t.Errorf("?%s: %d %v, want 400 naming %s", param, status, out, field)
		}
	}
}

// Changing a business's site URL keeps the SMS already sent working: its
// slug lands on the new site, and its taps count on the new link.
func TestSiteURLChangeKeepsSentLinksWorking(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.addBusiness(t, "Rosa", "Austin", "https://old.example.com/")
	_, send := app.mustPost(t, "/api/v1/campaigns/sends", "s1", previewBody(b.ID, "friendly"))
	oldSlug := send["slug"].(string)
	if resp, _ := request(t, "GET", app.URL+"/"+oldSlug, iPhone); resp.Header.Get("Location") != "https://old.example.com/" {
		t.Fatalf("before: %s", resp.Header.Get("Location"))
	}
	br := app.signedIn(t)
	_, form := br.get("/admin/businesses/" + b.ID + "/edit")
	if !strings.Contains(form.Find("#site-url-moves-links").Text(), "every SMS already sent will open the new site") {
		t.Error("the edit form does not say what changing the URL does")
	}
	resp, _ := br.post("/admin/businesses/"+b.ID, url.Values{"csrf_token": {br.token}, "name": {"Rosa"}, "city": {"Austin"}, "site_url": {"https://new.example.com/"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	if !pollUntil(5*time.Second, func() bool {
		resp, _ := request(t, "GET", app.URL+"/"+oldSlug, iPhone)
		return resp.Header.Get("Location") == "https://new.example.com/"
	}) {
		t.Fatal("the sent slug does not land on the new site")
	}
	_, preview := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(b.ID, "friendly"))
	newSlug := preview["slug"].(string)
	if newSlug == oldSlug {
		t.Fatal("the preview still uses the old link")
	}
	if !pollUntil(5*time.Second, func() bool { c, _, _ := app.counts(t, newSlug); return c >= 1 }) {
		t.Error("a tap on the old slug is not counted on the new link")
	}
}

// The preview page shows the phone and a "Text this" link whose number
// and body are the business's and the message shown; opening it records
// nothing.
func TestTextThisLink(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	status, out := app.api(t, "POST", "/api/v1/businesses", map[string]any{"name": "Rosa & Co", "site_url": "https://rosa.example.com/", "phone": "512 555 0134"})
	if status != http.StatusCreated {
		t.Fatal(status, out)
	}
	id := out["id"].(string)
	br := app.signedIn(t)
	_, doc := br.get("/admin/campaigns/" + id + "?variant=urgent")
	href, _ := doc.Find("#text-this").Attr("href")
	const prefix = "sms:+15125550134?&body="
	if !strings.HasPrefix(href, prefix) {
		t.Fatalf("Text this href %q, want %s…", href, prefix)
	}
	body, err := url.PathUnescape(strings.TrimPrefix(href, prefix))
	if msg := doc.Find("#message-text").Text(); err != nil || body != msg {
		t.Errorf("sms body %q (%v), want the previewed message %q", body, err, msg)
	}
	if got, _ := doc.Find("#business-phone").Attr("data-e164"); got != "+15125550134" {
		t.Errorf("phone on the page %q", got)
	}
	if n := app.countRows(t, "campaign_sends"); n != 0 {
		t.Errorf("%d sends recorded by showing the page", n)
	}
}

// A phone saved before phones were kept in E.164 still gets a working
// "Text this" link; one that does not read as a number gets none.
func TestTextThisLinkForAPhoneSavedBeforeE164(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	old := app.addBusiness(t, "Old Phone Diner", "", "https://olddiner.example.com/")
	junk := app.addBusiness(t, "Junk Phone Cafe", "", "https://junkcafe.example.com/")
	app.Store.DB().MustExec(`UPDATE businesses SET phone = '(512) 555-0134' WHERE id = $1`, old.ID)
	app.Store.DB().MustExec(`UPDATE businesses SET phone = 'ask at the counter' WHERE id = $1`, junk.ID)
	br := app.signedIn(t)
	_, doc := br.get("/admin/campaigns/" + old.ID + "?variant=friendly")
	if href, _ := doc.Find("#text-this").Attr("href"); !strings.HasPrefix(href, "sms:+15125550134?&body=") {
		t.Errorf("Text this href %q for a legacy (512) 555-0134, want sms:+15125550134?&body=…", href)
	}
	_, doc = br.get("/admin/campaigns/" + junk.ID + "?variant=friendly")
	if n := doc.Find("#text-this").Length(); n != 0 {
		t.Errorf("%d Text this links for a phone that is no number", n)
	}
}

// The queue walks the businesses not sent and not opted out: Mark as sent
// opens the next one on the same variant, skipping an opted-out business.
func TestOutreachQueue(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := app.addBusiness(t, "A Bakery", "", "https://a.example.com/")
	out := app.addBusiness(t, "B Opted Out", "", "https://b.example.com/")
	c := app.addBusiness(t, "C Cafe", "", "https://c.example.com/")
	app.api(t, "POST", "/api/v1/businesses/"+out.ID+"/opt-out", nil)
	br := app.signedIn(t)
	resp, _ := br.get("/admin/campaigns/queue?variant=urgent")
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, a.ID) || !strings.Contains(loc, "variant=urgent") {
		t.Fatalf("start: %s, want A on urgent", loc)
	}
	_, page := br.get("/admin/campaigns/" + a.ID + "?queue=1&variant=urgent")
	if page.Find("#queue").Length() == 0 || page.Find(`#mark-sent input[name="queue"]`).Length() == 0 {
		t.Fatal("the queue page has no queue bar or queue form")
	}
	resp = br.submit(page, "#mark-sent")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, c.ID) || !strings.Contains(loc, "variant=urgent") {
		t.Fatalf("after Mark as sent: %d %s, want C (B opted out) on urgent", resp.StatusCode, loc)
	}
	_, list := br.get("/admin/campaigns?status=sent")
	if list.Find("#campaigns tbody tr").Length() != 1 || list.Find(`#campaigns tr[data-status="sent"]`).Length() != 1 {
		t.Errorf("status filter: %d rows", list.Find("#campaigns tbody tr").Length())
	}
}

// The results page takes dates, keeps the form on a bad one, and splits
// by template version on request.
func TestResultsPageDates(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	br := app.signedIn(t)
	resp, doc := br.get("/admin/results?since=2026-12-01&until=2026-12-07")
	if resp.StatusCode != http.StatusOK || doc.Find("#since").AttrOr("value", "") != "2026-12-01" {
		t.Errorf("dates: %d", resp.StatusCode)
	}
	resp, doc = br.get("/admin/results?since=12/01/2026")
	if resp.StatusCode != http.StatusBadRequest || doc.Find("#results-error").Length() == 0 ||
		doc.Find("#since").AttrOr("value", "") != "12/01/2026" || doc.Find("#results-filter").Length() == 0 {
		t.Errorf("bad date: %d; want the form kept with a message", resp.StatusCode)
	}
	if doc.Find(".presets a").Length() != 3 {
		t.Error("no date presets")
	}
	status, out := app.api(t, "GET", "/api/v1/campaigns/results?since=2026-12-01&by=version", nil)
	if _, ok := out["by_version"]; status != http.StatusOK || !ok {
		t.Errorf("API by version: %d %v", status, out)
	}
}
