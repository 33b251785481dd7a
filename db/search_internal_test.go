package db

import (
	"slices"
	"strings"
	"testing"
)

// The trigram index is asked for the rarest-looking words only: a long
// fragment of a URL is mostly words every URL has.
func TestKeyWords(t *testing.T) {
	for text, want := range map[string][]string{
		"menu utm source sms utm campaign spring ref 37001": {"37001", "campaign"},
		"rosas bakery express":                              {"express", "bakery", "rosas"},
		"mullers print shop sons":                           {"mullers", "print", "shop", "sons"},
		"a bb ccc dddd eeeee ffffff":                        {"ffffff", "eeeee", "dddd", "ccc"},
		"rosas":                                             {"rosas"},
		"a b":                                               nil,
		"utm utm":                                           {"utm"},
	} {
		if got := keyWords(strings.Fields(text)); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
}
