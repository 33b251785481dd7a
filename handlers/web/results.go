package web

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/stats"
)

// VariantResult is one variant's line of the results, shared by the API
// and the page. Ratios are nil when their divisor is 0.
type VariantResult struct {
	Variant                string           `json:"variant"`
	Sends                  int64            `json:"sends"`
	BusinessesSent         int64            `json:"businesses_sent"`
	BusinessesClicked      int64            `json:"businesses_clicked"`
	ClickRate              float64          `json:"click_rate"` // businesses clicked ÷ businesses sent to; 0 with no sends
	ClickRateLow           float64          `json:"click_rate_low"`
	ClickRateHigh          float64          `json:"click_rate_high"`
	Clicks                 int64            `json:"clicks"`
	Segments               int64            `json:"segments"`
	Cost                   campaign.Amount  `json:"cost"`
	Currency               string           `json:"currency"`
	CostPerClick           *campaign.Amount `json:"cost_per_click"`
	CostPerBusinessClicked *campaign.Amount `json:"cost_per_business_clicked"`
}

// resultsJSON is GET /api/v1/campaigns/results.
type ResultsJSON struct {
	Variants []VariantResult `json:"variants"`
	Since    *time.Time      `json:"since"`
	Until    *time.Time      `json:"until"`
}

// Results reads since/until and builds every variant's line, with zeros
// for variants without sends.
func (h *Base) Results(c echo.Context) (ResultsJSON, error) {
	since, err := TimeParam(c, "since")
	if err != nil {
		return ResultsJSON{}, err
	}
	until, err := TimeParam(c, "until")
	if err != nil {
		return ResultsJSON{}, err
	}
	if since != nil && until != nil && !until.After(*since) {
		return ResultsJSON{}, Invalid("until", "until must be later than since")
	}
	rows, err := h.Store.CampaignResults(c.Request().Context(), since, until)
	if err != nil {
		return ResultsJSON{}, err
	}
	byVariant := map[string]db.VariantResult{}
	for _, r := range rows {
		byVariant[r.Variant] = r
	}
	out := ResultsJSON{Since: since, Until: until, Variants: make([]VariantResult, 0, len(campaign.Variants()))}
	for _, v := range campaign.Variants() {
		r := byVariant[v]
		r.Variant = v
		out.Variants = append(out.Variants, h.VariantResult(r))
	}
	return out, nil
}

func (h *Base) VariantResult(r db.VariantResult) VariantResult {
	v := VariantResult{Variant: r.Variant, Sends: r.Sends, BusinessesSent: r.BusinessesSent,
		BusinessesClicked: r.BusinessesClicked, Clicks: r.Clicks, Segments: r.Segments,
		Cost: campaign.Amount(r.CostMicros), Currency: h.Cfg.SMSRate.Currency}
	// Without sends the rate and its interval are zeros (every variant is
	// listed "with zeros"); verdict and the page look at BusinessesSent.
	if low, high, ok := stats.Wilson(r.BusinessesClicked, r.BusinessesSent); ok {
		v.ClickRate = float64(r.BusinessesClicked) / float64(r.BusinessesSent)
		v.ClickRateLow, v.ClickRateHigh = low, high
	}
	v.CostPerClick = perUnit(v.Cost, r.Clicks)
	v.CostPerBusinessClicked = perUnit(v.Cost, r.BusinessesClicked)
	return v
}

// perUnit is total ÷ n to the micro-unit, rounded half up; nil when n is 0.
func perUnit(total campaign.Amount, n int64) *campaign.Amount {
	if n <= 0 {
		return nil
	}
	a := (total + campaign.Amount(n/2)) / campaign.Amount(n)
	return &a
}

// timeParam reads an optional RFC 3339 query parameter.
func TimeParam(c echo.Context, name string) (*time.Time, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return nil, Invalid(name, "%s must be an RFC 3339 time such as 2026-12-01T00:00:00Z", name)
	}
	return &t, nil
}
