package phone

import "testing"

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
