package admin

import (
	"strings"
	"testing"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// A variant is called ahead only when its interval clears every other's.
func TestVerdictNeedsNonOverlappingIntervals(t *testing.T) {
	h := &web.Base{Cfg: web.Config{SMSRate: campaign.DefaultRate()}}
	line := func(v string, sent, clicked int64) web.VariantResult {
		return h.VariantResult(db.VariantResult{Variant: v, Sends: sent, BusinessesSent: sent, BusinessesClicked: clicked})
	}
	for _, tt := range []struct {
		name  string
		lines []web.VariantResult
		want  string
	}{
		{"clear winner", []web.VariantResult{line("friendly", 100, 10), line("professional", 100, 12), line("urgent", 100, 45)}, "Urgent is ahead"},
		{"overlap", []web.VariantResult{line("friendly", 20, 5), line("professional", 20, 6), line("urgent", 20, 9)}, "Not enough data yet"},
		{"one never sent", []web.VariantResult{line("friendly", 100, 10), line("professional", 0, 0), line("urgent", 100, 45)}, "Not enough data yet"},
		{"nothing sent", []web.VariantResult{line("friendly", 0, 0), line("professional", 0, 0), line("urgent", 0, 0)}, "Not enough data yet"},
	} {
		if got := verdict(tt.lines); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: %q, want it to start %q", tt.name, got, tt.want)
		}
	}
}
