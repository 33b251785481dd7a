package handlers

import (
	"strings"
	"testing"

	"github.com/shortlinks/shortlinks/db"
)

// A variant is called ahead only when its interval clears every other's.
func TestVerdictNeedsNonOverlappingIntervals(t *testing.T) {
	h := &Handlers{cfg: Config{SMSRate: DefaultSMSRate}}
	line := func(v string, sent, clicked int64) variantResult {
		return h.variantResult(db.VariantResult{Variant: v, Sends: sent, BusinessesSent: sent, BusinessesClicked: clicked})
	}
	for _, tt := range []struct {
		name  string
		lines []variantResult
		want  string
	}{
		{"clear winner", []variantResult{line("friendly", 100, 10), line("professional", 100, 12), line("urgent", 100, 45)}, "Urgent is ahead"},
		{"overlap", []variantResult{line("friendly", 20, 5), line("professional", 20, 6), line("urgent", 20, 9)}, "Not enough data yet"},
		{"one never sent", []variantResult{line("friendly", 100, 10), line("professional", 0, 0), line("urgent", 100, 45)}, "Not enough data yet"},
		{"nothing sent", []variantResult{line("friendly", 0, 0), line("professional", 0, 0), line("urgent", 0, 0)}, "Not enough data yet"},
	} {
		if got := verdict(tt.lines); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: %q, want it to start %q", tt.name, got, tt.want)
		}
	}
}
