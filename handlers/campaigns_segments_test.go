package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/handlers/campaign"
)

// Messages that land on and around the 160/70 boundaries, checked through
// the API against counts worked out by hand. The template is "{name}: {url}"
// and the short URL is "https://sl.example/" + a 6-character slug, 25
// characters, so every message is name + 27 characters of GSM-7.
func TestPreviewSMSSegmentBoundaries(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) {
		c.BaseURL = "https://sl.example"
		c.SMSTemplates = campaign.Templates{"friendly": "{name}: {url}", "professional": "{name}: {url}", "urgent": "{name}: {url}"}
	})
	a := strings.Repeat
	const emoji = "\U0001F600" // outside the BMP: 2 UTF-16 units
	cases := []struct {
		name       string
		business   string
		characters int
		encoding   string
		segments   int
		cost       float64
	}{
		// GSM-7: 133 + 27 = 160 septets is one segment, 161 is two (153 each).
		{"160 septets", a("a", 133), 160, "GSM-7", 1, 0.0079},
		{"161 septets", a("a", 134), 161, "GSM-7", 2, 0.0158},
		// € is an extension character: 2 septets. 131 + 2 + 27 = 160.
		{"euro fills 160", a("a", 131) + "€", 159, "GSM-7", 1, 0.0079},
		// 160 characters but 161 septets: two segments.
		{"160 characters, 161 septets", a("a", 132) + "€", 160, "GSM-7", 2, 0.0158},
		// ^ { } [ ] ~ | \ also cost 2: 127 + 2·3 + 27 = 160.
		{"brackets fill 160", a("a", 127) + "[^]", 157, "GSM-7", 1, 0.0079},
		// An escape pair never straddles two parts: part 1 holds 152 a's, the
		// € opens part 2 with 2 + 125 + 27 = 154 > 153, so a third part is
		// needed although 306 septets would fit two parts of 153.
		{"escape pair pushed to part 2", a("a", 152) + "€" + a("a", 125), 305, "GSM-7", 3, 0.0237},
		// é è à ù ì ò Ç Ñ ü are in the GSM-7 basic set: still 1 septet each.
		{"French accents stay GSM-7", "Café Lumière à Montréal", 50, "GSM-7", 1, 0.0079},
		{"accents at 160", "é" + a("a", 132), 160, "GSM-7", 1, 0.0079},
		// ç (lower case) is not GSM-7: the message becomes UCS-2, 70 per segment.
		{"UCS-2 at 70", "ç" + a("a", 42), 70, "UCS-2", 1, 0.0079},
		{"UCS-2 at 71", "ç" + a("a", 43), 71, "UCS-2", 2, 0.0158},
		{"û forces UCS-2", "Crème brûlée", 39, "UCS-2", 1, 0.0079},
		// An emoji is 2 UTF-16 units: 2 + 41 + 27 = 70 units in 69 characters.
		{"emoji at 70 units", emoji + a("a", 41), 69, "UCS-2", 1, 0.0079},
		{"emoji at 71 units", emoji + a("a", 42), 70, "UCS-2", 2, 0.0158},
		// UCS-2 multipart: 67 per part, 134 fits two, 135 needs three.
		{"UCS-2 134 units", "ç" + a("a", 106), 134, "UCS-2", 2, 0.0158},
		{"UCS-2 135 units", "ç" + a("a", 107), 135, "UCS-2", 3, 0.0237},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := app.addBusiness(t, tc.business, "", fmt.Sprintf("https://case%d.example.com/", i))
			status, body := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(b.ID, "friendly"))
			if status != http.StatusOK {
				t.Fatalf("status %d: %v", status, body)
			}
			if msg, _ := body["message"].(string); msg != tc.business+": "+body["short_url"].(string) || len(body["short_url"].(string)) != 25 {
				t.Fatalf("message %q is not the name and the 25-character short URL", msg)
			}
			got := [3]any{body["characters"], body["encoding"], body["segments"]}
			want := [3]any{float64(tc.characters), tc.encoding, float64(tc.segments)}
			if got != want || body["estimated_cost"] != tc.cost {
				t.Errorf("characters, encoding, segments = %v, cost %v; want %v, cost %v", got, body["estimated_cost"], want, tc.cost)
			}
		})
	}
}

// The shipped templates, filled for a typical business: the exact text, in
// one GSM-7 segment. Lengths: template text without placeholders + 13
// (name) + 6 (city, where used) + 25 (short URL).
func TestPreviewSMSDefaultMessages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, func(c *handlers.Config) { c.BaseURL = "https://sl.example" })
	b := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	for variant, want := range map[string]struct {
		text       string
		characters int
	}{
		"friendly":     {"Hi Rosa's Bakery! We made you a free website preview for customers in Austin: {url} Take a look! Reply STOP to opt out", 94 + 13 + 6 + 25},
		"professional": {"Rosa's Bakery, your new website preview is ready for review: {url} Made for customers in Austin. Reply STOP to opt out", 94 + 13 + 6 + 25},
		"urgent":       {"Rosa's Bakery: your free website preview expires in 48 hours. See it now: {url} Reply STOP to opt out", 83 + 13 + 25},
	} {
		status, body := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(b.ID, variant))
		text := strings.ReplaceAll(want.text, "{url}", "https://sl.example/"+body["slug"].(string))
		if status != 200 || body["message"] != text || body["characters"] != float64(want.characters) ||
			body["encoding"] != "GSM-7" || body["segments"] != 1.0 || body["estimated_cost"] != 0.0079 || body["currency"] != "USD" {
			t.Errorf("%s: %d %v\nwant message %q, %d characters, 1 GSM-7 segment at 0.0079 USD", variant, status, body, text, want.characters)
		}
	}
}
