package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// secondUTC is how the webhook pages show a time: to the second, in UTC.
var secondUTC = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC`)

// An admin adds an endpoint in the console (its secret shown once), sees
// the URL as text, narrows its events, sends a test event and reads the
// answer, rotates the secret and deletes the endpoint; refused input is
// shown next to its field; a configured endpoint is read-only.
func TestWebhookEndpointsConsole(t *testing.T) {
	t.Parallel()
	app := webhookApp(t)
	rcv := newKeyedReceiver(t)
	b := app.signedIn(t)
	_, doc := b.get("/admin/webhooks")
	token := csrf(t, doc)

	resp, doc := b.post("/admin/webhooks/endpoints", url.Values{"csrf_token": {token}, "url": {"not a url"}, "event_types": {"link.clicked"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find("#add-url-error").Text(), "not an absolute") ||
		doc.Find("#add-url").AttrOr("aria-invalid", "") != "true" || doc.Find(`#add-endpoint input[value="link.clicked"]:checked`).Length() != 1 {
		t.Errorf("refused add: %d, error %q; want 400 with the reason at the field and the ticks kept", resp.StatusCode, doc.Find("#add-url-error").Text())
	}

	resp, doc = b.post("/admin/webhooks/endpoints", url.Values{"csrf_token": {token}, "url": {rcv.srv.URL + "/in"}, "event_types": {"link.created", "send.recorded"}})
	secret := doc.Find("#secret-value").AttrOr("value", "")
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("add: %d, secret %q", resp.StatusCode, secret)
	}
	row := doc.Find("#webhook-endpoints tr[data-endpoint]")
	if row.Length() != 1 || !strings.Contains(row.Text(), rcv.srv.URL+"/in") || !strings.Contains(row.Text(), "link.created, send.recorded") {
		t.Fatalf("endpoint row: %q", row.Text())
	}
	row.Find("a").Each(func(_ int, a *goquery.Selection) {
		if strings.Contains(a.Text(), rcv.srv.URL) {
			t.Errorf("the receiver URL is a link: %q", a.Text())
		}
	})
	id := row.AttrOr("data-endpoint", "")
	page := "/admin/webhooks/endpoints/" + id
	if _, again := b.get("/admin/webhooks"); strings.Contains(again.Text(), secret) {
		t.Error("the secret is shown a second time")
	}

	// Narrow the events, then a test event whatever they are.
	resp, _ = b.post(page, url.Values{"csrf_token": {token}, "url": {rcv.srv.URL + "/in"}, "event_types": {"link.deactivated"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	_, doc = b.get(page)
	if got := doc.Find("#endpoint-facts").Text(); !strings.Contains(got, "link.deactivated") || strings.Contains(got, "link.created") {
		t.Errorf("after the save the page says %q", got)
	}
	resp, doc = b.post(page+"/test", url.Values{"csrf_token": {token}})
	result := doc.Find("#test-result").Text()
	if resp.StatusCode != 200 || !strings.Contains(result, "Delivered") || !strings.Contains(result, "HTTP 204") || len(rcv.ofType("webhook.test")) != 1 {
		t.Errorf("test event: %d %q", resp.StatusCode, result)
	} else if !rcv.ofType("webhook.test")[0].verifiesWith(secret) {
		t.Error("the test event does not verify with the endpoint's secret")
	}

	// Rotate: a new secret, shown once, and the old one still signs.
	_, doc = b.post(page+"/rotate-secret", url.Values{"csrf_token": {token}})
	rotated := doc.Find("#secret-value").AttrOr("value", "")
	if !strings.HasPrefix(rotated, "whsec_") || rotated == secret || !secondUTC.MatchString(doc.Find("#new-secret").Text()) {
		t.Fatalf("rotate: secret %q, %q", rotated, doc.Find("#new-secret").Text())
	}
	b.post(page+"/test", url.Values{"csrf_token": {token}})
	if tests := rcv.ofType("webhook.test"); len(tests) != 2 || !tests[1].verifiesWith(secret) || !tests[1].verifiesWith(rotated) {
		t.Errorf("test after the rotation: %+v, want it to verify with both secrets", tests)
	}

	// A failing receiver: its status shown once, times to the second.
	rcv.srv.Close()
	app.addLink(t, "https://florist.example.com/", "campaign")
	if _, err := app.Store.Deactivate(context.Background(), app.link(t, "https://florist.example.com/").Slug); err != nil {
		t.Fatal(err)
	}
	doc = waitForPage(t, b, "/admin/webhooks", `#webhook-deliveries tr[data-delivery] .muted`)
	if text := doc.Find("#webhook-deliveries tbody").Text(); !secondUTC.MatchString(text) {
		t.Errorf("delivery times are not to the second with the zone: %q", text)
	}

	resp, _ = b.post(page+"/delete", url.Values{"csrf_token": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := b.get(page); resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleted endpoint page: %d", resp.StatusCode)
	}

	// A configured endpoint: shown read-only, refused if posted to anyway.
	if err := app.Store.SyncWebhookEndpoints(context.Background(), []string{"https://configured.example.com/h"}); err != nil {
		t.Fatal(err)
	}
	_, doc = b.get("/admin/webhooks")
	cfgID := doc.Find("#webhook-endpoints tr[data-endpoint]").AttrOr("data-endpoint", "")
	_, doc = b.get("/admin/webhooks/endpoints/" + cfgID)
	if doc.Find("#read-only").Length() != 1 || doc.Find("#edit-endpoint").Length() != 0 {
		t.Error("the configured endpoint's page offers to edit it")
	}
	if resp, _ := b.post("/admin/webhooks/endpoints/"+cfgID+"/delete", url.Values{"csrf_token": {token}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("deleting a configured endpoint: %d, want 409", resp.StatusCode)
	}
}
