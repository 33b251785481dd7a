package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A marketer adds and edits a business in the console; bad input is
// refused with the very message the API gives, at the field it is about.
func TestAddAndEditBusinessInConsole(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.signedIn(t)
	_, doc := b.get("/admin/businesses/new")
	token := csrf(t, doc)

	for _, tc := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"name": {""}, "site_url": {"https://a.example.com/"}}, "name"},
		{url.Values{"name": {"Ace Hardware"}, "site_url": {""}}, "site_url"},
		{url.Values{"name": {"Ace Hardware"}, "site_url": {"javascript:alert(1)"}}, "site_url"},
		{url.Values{"name": {"Ace Hardware"}, "city": {"Line\nbreak"}, "site_url": {"https://a.example.com/"}}, "city"},
	} {
		_, api := app.api(t, "POST", "/api/v1/businesses", map[string]string{
			"name": tc.form.Get("name"), "site_url": tc.form.Get("site_url"), "city": tc.form.Get("city")})
		apiMessage := errorOf(api, "message")
		tc.form.Set("csrf_token", token)
		resp, doc := b.post("/admin/businesses", tc.form)
		input := doc.Find("#business-" + tc.field)
		shown := doc.Find("#business-" + tc.field + "-error").Text()
		if resp.StatusCode != http.StatusBadRequest || input.AttrOr("aria-invalid", "") != "true" ||
			!strings.Contains(input.AttrOr("aria-describedby", ""), "business-"+tc.field+"-error") ||
			!strings.EqualFold(strings.TrimSuffix(shown, "."), apiMessage) || errorOf(api, "field") != tc.field {
			t.Errorf("%v: %d, %s says %q (API: %s %q); want 400 with the API's message tied to the field",
				tc.form, resp.StatusCode, tc.field, shown, errorOf(api, "field"), apiMessage)
		}
	}
	if n := app.countBusinesses(t); n != 0 {
		t.Fatalf("refused forms created %d businesses", n)
	}

	resp, _ := b.post("/admin/businesses", url.Values{"csrf_token": {token}, "name": {"Ace Hardware"}, "city": {"Tulsa"},
		"phone": {"+1 918 555 0100"}, "site_url": {"https://ace.example.com/"}})
	page := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(page, "/admin/campaigns/") {
		t.Fatalf("add: %d %q, want 303 to the business's preview", resp.StatusCode, page)
	}
	id := strings.TrimPrefix(page, "/admin/campaigns/")
	_, preview := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(id, "friendly"))
	if !strings.Contains(preview["message"].(string), "Ace Hardware") || app.activeLinksTo(t, "https://ace.example.com/") != 1 {
		t.Errorf("preview of the added business: %v", preview["message"])
	}

	_, doc = b.get("/admin/businesses/" + id + "/edit")
	if doc.Find("#business-name").AttrOr("value", "") != "Ace Hardware" || doc.Find("#business-site_url").AttrOr("value", "") != "https://ace.example.com/" {
		t.Fatal("the edit form does not show the business")
	}
	resp, _ = b.post("/admin/businesses/"+id, url.Values{"csrf_token": {token}, "name": {"Ace Hardware & Garden"}, "city": {"Tulsa"},
		"site_url": {"https://acegarden.example.com/"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	_, preview = app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(id, "friendly"))
	if !strings.Contains(preview["message"].(string), "Ace Hardware & Garden") || app.activeLinksTo(t, "https://acegarden.example.com/") != 1 {
		t.Errorf("preview after the edit: %v", preview["message"])
	}
	resp, doc = b.post("/admin/businesses/"+id, url.Values{"csrf_token": {token}, "name": {"  "}, "site_url": {"https://acegarden.example.com/"}})
	if resp.StatusCode != http.StatusBadRequest || doc.Find("#business-name-error").Text() == "" {
		t.Errorf("edit without a name: %d, want 400 at the name", resp.StatusCode)
	}
	if resp, _ := b.get("/admin/businesses/6f1c9e4e-0000-4000-8000-000000000000/edit"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("editing a business that does not exist: %d, want 404", resp.StatusCode)
	}
}

func (a *testApp) countBusinesses(t *testing.T) int {
	t.Helper()
	n, err := a.Store.CountBusinesses(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}
