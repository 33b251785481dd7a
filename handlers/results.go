package handlers

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/cost"
	"github.com/shortlinks/shortlinks/handlers/messages"
	"github.com/shortlinks/shortlinks/handlers/stats"
	"github.com/shortlinks/shortlinks/views"
)

// variantResult is one variant's line of the results, shared by the API
// and the page. Ratios are nil when their divisor is 0.
type variantResult struct {
	Variant                string       `json:"variant"`
	Sends                  int64        `json:"sends"`
	BusinessesSent         int64        `json:"businesses_sent"`
	BusinessesClicked      int64        `json:"businesses_clicked"`
	ClickRate              float64      `json:"click_rate"` // businesses clicked ÷ businesses sent to; 0 with no sends
	ClickRateLow           float64      `json:"click_rate_low"`
	ClickRateHigh          float64      `json:"click_rate_high"`
	Clicks                 int64        `json:"clicks"`
	Segments               int64        `json:"segments"`
	Cost                   cost.Amount  `json:"cost"`
	Currency               string       `json:"currency"`
	CostPerClick           *cost.Amount `json:"cost_per_click"`
	CostPerBusinessClicked *cost.Amount `json:"cost_per_business_clicked"`
}

// resultsJSON is GET /api/v1/campaigns/results.
type resultsJSON struct {
	Variants []variantResult `json:"variants"`
	Since    *time.Time      `json:"since"`
	Until    *time.Time      `json:"until"`
}

// CampaignResults is GET /api/v1/campaigns/results?since=&until=: per
// variant, what its sends (sent_at in [since, until)) achieved.
func (h *Handlers) CampaignResults(c echo.Context) error {
	r, err := h.results(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// results reads since/until and builds every variant's line, with zeros
// for variants without sends.
func (h *Handlers) results(c echo.Context) (resultsJSON, error) {
	since, err := timeParam(c, "since")
	if err != nil {
		return resultsJSON{}, err
	}
	until, err := timeParam(c, "until")
	if err != nil {
		return resultsJSON{}, err
	}
	if since != nil && until != nil && !until.After(*since) {
		return resultsJSON{}, invalid("until", "until must be later than since")
	}
	rows, err := h.store.CampaignResults(c.Request().Context(), since, until)
	if err != nil {
		return resultsJSON{}, err
	}
	byVariant := map[string]db.VariantResult{}
	for _, r := range rows {
		byVariant[r.Variant] = r
	}
	out := resultsJSON{Since: since, Until: until, Variants: make([]variantResult, 0, len(messages.Variants))}
	for _, v := range messages.Variants {
		r := byVariant[v]
		r.Variant = v
		out.Variants = append(out.Variants, h.variantResult(r))
	}
	return out, nil
}

func (h *Handlers) variantResult(r db.VariantResult) variantResult {
	v := variantResult{Variant: r.Variant, Sends: r.Sends, BusinessesSent: r.BusinessesSent,
		BusinessesClicked: r.BusinessesClicked, Clicks: r.Clicks, Segments: r.Segments,
		Cost: cost.Amount(r.CostMicros), Currency: h.cfg.SMSRate.Currency}
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
func perUnit(total cost.Amount, n int64) *cost.Amount {
	if n <= 0 {
		return nil
	}
	a := (total + cost.Amount(n/2)) / cost.Amount(n)
	return &a
}

// timeParam reads an optional RFC 3339 query parameter.
func timeParam(c echo.Context, name string) (*time.Time, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return nil, invalid(name, "%s must be an RFC 3339 time such as 2026-12-01T00:00:00Z", name)
	}
	return &t, nil
}

// ResultsPage is GET /admin/results: the same figures as the API, and a
// plain sentence saying whether one variant is ahead.
func (h *Handlers) ResultsPage(c echo.Context) error {
	r, err := h.results(c)
	if err != nil {
		return err
	}
	p := views.ResultsPage{Since: c.QueryParam("since"), Until: c.QueryParam("until"), Verdict: verdict(r.Variants)}
	for _, v := range r.Variants {
		p.Rows = append(p.Rows, resultRow(v))
	}
	return render(c, http.StatusOK, views.Results(h.chrome(c, "Results", "results"), p))
}

// verdict names the leading variant when its whole 95% interval lies
// above every other variant's (each of which has been sent), else says
// there is not enough data yet.
func verdict(vs []variantResult) string {
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
				messages.DisplayName(lead.Variant), percent(lead.ClickRate), percent(lead.ClickRateLow), percent(lead.ClickRateHigh))
		}
	}
	return "Not enough data yet: no variant's click rate is ahead of every other with 95% confidence."
}

func resultRow(v variantResult) views.ResultRow {
	row := views.ResultRow{Variant: v.Variant, Name: messages.DisplayName(v.Variant), Sends: v.Sends,
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

// resultsPages registers the results page under /admin.
func (h *Handlers) resultsPages(admin *echo.Group) { get(admin, "/results", h.ResultsPage) }
