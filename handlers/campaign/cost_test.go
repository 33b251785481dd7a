package campaign

import (
	"encoding/json"
	"testing"
)

func TestParseRateAndEstimate(t *testing.T) {
	cases := []struct {
		amount   string
		segments int
		want     string // the JSON number a client sees
	}{
		{"0.0079", 1, "0.0079"},
		{"0.0079", 3, "0.0237"}, // float64 would give 0.023700000000000002
		{"0.1", 3, "0.30"},      // 0.1*3 in float64 is 0.30000000000000004
		{"0.000001", 7, "0.000007"},
		{"0", 5, "0.00"},
		{"2", 2, "4.00"},
		{"1.5", 1, "1.50"},
		{".5", 2, "1.00"},
		{"0.0079", 0, "0.00"}, // an empty message costs nothing
		{"1000", 10, "10000.00"},
	}
	for _, tc := range cases {
		r, err := ParseRate(tc.amount, "USD")
		if err != nil {
			t.Fatalf("ParseRate(%q): %v", tc.amount, err)
		}
		got, _ := json.Marshal(r.Estimate(tc.segments))
		if string(got) != tc.want {
			t.Errorf("%s × %d = %s, want %s", tc.amount, tc.segments, got, tc.want)
		}
	}
}

func TestParseRateRejects(t *testing.T) {
	for _, amount := range []string{"", ".", "-0.01", "+1", "NaN", "Inf", "1e-3", "0.0000001", "1,5", "0x10", "1000.000001", "1.2.3", "12345678901"} {
		if _, err := ParseRate(amount, "USD"); err == nil {
			t.Errorf("ParseRate(%q) accepted", amount)
		}
	}
	for _, cur := range []string{"", "usd", "US", "USDT", "€"} {
		if _, err := ParseRate("0.01", cur); err == nil {
			t.Errorf("currency %q accepted", cur)
		}
	}
}
