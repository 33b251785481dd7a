package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/shortlinks/shortlinks/db"
)

// TestLinkSearchAsPeopleTypeIt searches the console, the API and the
// Shlink API the way people type: a URL pasted in capitals, a domain with
// "www." and a slash, a business name without its apostrophe.
func TestLinkSearchAsPeopleTypeIt(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	rosa := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://www.rosas.com/")
	slugOf := map[string]string{}
	for _, l := range []struct {
		url      string
		business *string
	}{
		{"https://www.rosas.com/", &rosa.ID},
		{"https://shop.rosas.com/gift-cards", &rosa.ID},
		{"https://larosas.com/", nil},
	} {
		link, _, err := app.Store.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: l.url, LinkType: "campaign", BusinessID: l.business})
		if err != nil {
			t.Fatal(err)
		}
		slugOf[l.url] = link.Slug
	}
	home, shop, other := slugOf["https://www.rosas.com/"], slugOf["https://shop.rosas.com/gift-cards"], slugOf["https://larosas.com/"]

	apiSlugs := func(q string) []string {
		status, body := app.api(t, "GET", "/api/v1/links?sort=oldest&q="+url.QueryEscape(q), nil)
		if status != http.StatusOK {
			t.Fatalf("q=%s: %d %v", q, status, body)
		}
		var out []string
		for _, l := range body["links"].([]any) {
			out = append(out, l.(map[string]any)["slug"].(string))
		}
		return out
	}
	for q, want := range map[string][]string{
		"HTTPS://WWW.ROSAS.COM": {home},       // normalised as a create would: one link, not its neighbours
		"www.rosas.com/":        {home, shop}, // a domain and its subdomains
		"rosas.com":             {home, shop}, // not larosas.com
		"rosas":                 {home, shop, other},
		"rosas bakery":          {home, shop}, // the business's name, apostrophe left out
		"AUSTIN":                {home, shop}, // its city
		"gift cards":            {shop},       // punctuation typed differently
		home[:4]:                {home},       // a slug prefix
	} {
		if got := apiSlugs(q); !slices.Equal(got, want) {
			t.Errorf("API q=%q: %v, want %v", q, got, want)
		}
	}

	b := app.signedIn(t)
	_, doc := b.get("/admin/links?q=" + url.QueryEscape("rosa’s bakery"))
	if got := slugsOn(doc); len(got) != 2 || !slices.Contains(got, home) || !slices.Contains(got, shop) {
		t.Errorf("console search for the business: %v", got)
	}

	status, body := app.shlink(t, testToken, "GET", "/rest/v3/short-urls?searchTerm="+url.QueryEscape("https://www.rosas.com"), "")
	data, _ := body["shortUrls"].(map[string]any)["data"].([]any)
	if status != http.StatusOK || len(data) != 1 || data[0].(map[string]any)["shortCode"] != home {
		t.Errorf("Shlink searchTerm=<URL>: %d %v", status, body)
	}
}
