package admin

import (
	"testing"

	"github.com/shortlinks/shortlinks/db"
)

// A total reads as exact or as a labelled estimate, never a bare guess.
func TestCountText(t *testing.T) {
	for c, want := range map[db.Count]string{
		{N: 0}:                            "0",
		{N: 999}:                          "999",
		{N: 1234567}:                      "1,234,567",
		{N: 1001, Estimated: true}:        "about 1,001",
		{N: 12345, Estimated: true}:       "about 12.3 k",
		{N: 9_012_345, Estimated: true}:   "about 9.0 M",
		{N: 123_456_789, Estimated: true}: "about 123.5 M",
	} {
		if got := countText(c); got != want {
			t.Errorf("%+v: %q, want %q", c, got, want)
		}
	}
}
