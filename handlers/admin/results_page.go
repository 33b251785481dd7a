package admin

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// ResultsPage is GET /admin/results: the same figures as the API, and a
// plain sentence saying whether one variant is ahead.
func (h *Handlers) ResultsPage(c echo.Context) error {
	r, err := h.Results(c)
	if err != nil {
		return err
	}
	p := views.ResultsPage{Since: c.QueryParam("since"), Until: c.QueryParam("until"), Verdict: verdict(r.Variants)}
	for _, v := range r.Variants {
		p.Rows = append(p.Rows, resultRow(v))
	}
	return web.Render(c, http.StatusOK, views.Results(h.Chrome(c, "Results", "results"), p))
}

// verdict names the leading variant when its whole 95% interval lies
// above every other variant's (each of which has been sent), else says
// there is not enough data yet.
func verdict(vs []web.VariantResult) string {
	for i, lead := range vs {
		if lead.BusinessesSent == 0 {
			continue
		}
		ahead := true
		for j, o := range vs {
			if j != i && (o.BusinessesSent == 0 || o.ClickRateHigh >= lead.ClickRateLow) {
				ahead = false
				break
			}
		}
		if ahead {
			return fmt.Sprintf("%s is ahead: %s of the businesses sent it clicked (95%% confidence: %s to %s), more than any other variant could plausibly reach.",
				campaign.DisplayName(lead.Variant), percent(lead.ClickRate), percent(lead.ClickRateLow), percent(lead.ClickRateHigh))
		}
	}
	return "Not enough data yet: no variant's click rate is ahead of every other with 95% confidence."
}

func resultRow(v web.VariantResult) views.ResultRow {
	row := views.ResultRow{Variant: v.Variant, Name: campaign.DisplayName(v.Variant), Sends: v.Sends,
		BusinessesSent: v.BusinessesSent, BusinessesClicked: v.BusinessesClicked, Clicks: v.Clicks,
		Segments: v.Segments, Cost: v.Cost.String() + " " + v.Currency, ClickRate: "–", Interval: "–",
		CostPerClick: "–", CostPerBusinessClicked: "–"}
	if v.BusinessesSent > 0 {
		row.ClickRate = percent(v.ClickRate)
		row.Interval = percent(v.ClickRateLow) + " – " + percent(v.ClickRateHigh)
	}
	if v.CostPerClick != nil {
		row.CostPerClick = v.CostPerClick.String() + " " + v.Currency
	}
	if v.CostPerBusinessClicked != nil {
		row.CostPerBusinessClicked = v.CostPerBusinessClicked.String() + " " + v.Currency
	}
	return row
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
