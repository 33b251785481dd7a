package db

import (
	"strings"
	"testing"
)

// A generated slug never equals a reserved route word, in any case: with
// 6 letters and length 3, one draw in 27 would otherwise be "api" in some case.
func TestSlugGenSkipsReservedWords(t *testing.T) {
	t.Parallel()
	g := newSlugGen(3, "aApPiI", []string{"API"})
	for range 2000 {
		s, err := g.next()
		if err != nil {
			t.Fatal(err)
		}
		if strings.EqualFold(s, "api") {
			t.Fatalf("generated reserved slug %q", s)
		}
	}
}
