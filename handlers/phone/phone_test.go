package phone

import (
	"net/url"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		raw, region, want string
		ok                bool
	}{
		{"(202) 555-0143", "US", "+12025550143", true},
		{"(123) 456-7890", "US", "", false}, // no area code starts with 1
		{"(415) 555-2671", "US", "+14155552671", true},
		{"415.555.2671", "US", "+14155552671", true},
		{"+1 415 555 2671", "GB", "+14155552671", true},
		{"020 7946 0018", "GB", "+442079460018", true},
		{"020 7946 0018", "US", "", false},
		{"+44 20 7946 0018", "US", "+442079460018", true},
		{"  ", "US", "", true},
		{"call me", "US", "", false},
		{"12", "US", "", false},
	}
	for _, c := range cases {
		got, err := Normalize(c.raw, c.region)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Normalize(%q, %s) = %q, %v; want %q, ok=%t", c.raw, c.region, got, err, c.want, c.ok)
		}
	}
}

func TestValidRegion(t *testing.T) {
	for region, want := range map[string]bool{"US": true, "gb": true, "DE": true, "XX": false, "": false} {
		if got := ValidRegion(region); got != want {
			t.Errorf("ValidRegion(%q) = %t, want %t", region, got, want)
		}
	}
}

// The body of a "Text this" link decodes to exactly the message, whatever
// it holds: spaces, plus signs, &, #, ?, newlines, accents and emoji.
func TestSMSHrefCarriesTheExactMessage(t *testing.T) {
	msg := "Hi Rosa's Bakery & Café #1? 50% off + more\nhttps://sho.rt/AbC123 🎉"
	href := SMSHref("+15125550134", msg)
	const prefix = "sms:+15125550134?&body="
	if !strings.HasPrefix(href, prefix) {
		t.Fatalf("href %q does not start with %q", href, prefix)
	}
	enc := strings.TrimPrefix(href, prefix)
	if strings.ContainsAny(enc, " +&#?\n") {
		t.Errorf("body %q has characters that would end or change it", enc)
	}
	got, err := url.PathUnescape(enc)
	if err != nil || got != msg {
		t.Errorf("body decodes to %q (%v), want %q", got, err, msg)
	}
}
