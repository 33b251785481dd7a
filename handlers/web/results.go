package web

import (
	"context"
	"net/url"
	"strings"
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

// ResultsJSON is GET /api/v1/campaigns/results. ByVersion is present
// with ?by=version: each variant's line per template version.
type ResultsJSON struct {
	Variants  []VariantResult  `json:"variants"`
	ByVersion *[]VersionResult `json:"by_version,omitempty"`
	Since     *time.Time       `json:"since"`
	Until     *time.Time       `json:"until"`
}

// VersionResult is a variant's results for one template version
// (template_version 0: the configured default; null: sends recorded
// before versions were kept).
type VersionResult struct {
	VariantResult
	TemplateVersion *int `json:"template_version"`
}

// Results reads since/until (and by=version) and builds every variant's
// line, with zeros for variants without sends.
func (h *Base) Results(c echo.Context) (ResultsJSON, error) {
	w, err := ResultsWindowParams(c)
	if err != nil {
		return ResultsJSON{}, err
	}
	return h.ResultsFor(c.Request().Context(), w)
}

// ResultsFor builds the results of the window w.
func (h *Base) ResultsFor(ctx context.Context, w ResultsWindow) (ResultsJSON, error) {
	rows, err := h.Store.CampaignResults(ctx, w.Since, w.Until)
	if err != nil {
		return ResultsJSON{}, err
	}
	byVariant := map[string]db.VariantResult{}
	for _, r := range rows {
		byVariant[r.Variant] = r
	}
	out := ResultsJSON{Since: w.Since, Until: w.Until, Variants: make([]VariantResult, 0, len(campaign.Variants()))}
	for _, v := range campaign.Variants() {
		r := byVariant[v]
		r.Variant = v
		out.Variants = append(out.Variants, h.VariantResult(r))
	}
	if w.ByVersion {
		versions, err := h.Store.CampaignResultsByVersion(ctx, w.Since, w.Until)
		if err != nil {
			return ResultsJSON{}, err
		}
		byVersion := make([]VersionResult, 0, len(versions))
		for _, r := range versions {
			byVersion = append(byVersion, VersionResult{VariantResult: h.VariantResult(r), TemplateVersion: r.TemplateVersion})
		}
		out.ByVersion = &byVersion
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

// ResultsWindow is the sends a results view covers: sent_at in [Since,
// Until) (nil: unbounded), as typed (Raw*, for the form), and whether each
// variant is split by template version.
type ResultsWindow struct {
	Since, Until       *time.Time
	RawSince, RawUntil string
	ByVersion          bool
}

// ResultsWindowParams reads ?since=&until=&by=. Each bound is a date
// (2026-12-01, midnight UTC; an until date counts its whole day) or an
// RFC 3339 time (2026-12-01T09:30:00Z, exact). The window comes back as
// typed even with the error, so a page can show the form again.
func ResultsWindowParams(c echo.Context) (ResultsWindow, error) {
	w := ResultsWindow{RawSince: strings.TrimSpace(c.QueryParam("since")), RawUntil: strings.TrimSpace(c.QueryParam("until"))}
	switch c.QueryParam("by") {
	case "":
	case "version":
		w.ByVersion = true
	default:
		return w, Invalid("by", "by must be version (or left out)")
	}
	var err error
	if w.Since, err = timeBound("since", w.RawSince, false); err != nil {
		return w, err
	}
	if w.Until, err = timeBound("until", w.RawUntil, true); err != nil {
		return w, err
	}
	if w.Since != nil && w.Until != nil && !w.Until.After(*w.Since) {
		return w, Invalid("until", "until must be later than since")
	}
	return w, nil
}

// timeBound parses one bound; an end date means the end of that day.
func timeBound(name, raw string, end bool) (*time.Time, error) {
	if raw == "" {
		return nil, nil
	}
	if d, err := time.Parse(time.DateOnly, raw); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return &d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return nil, Invalid(name, "%s must be a date such as 2026-12-01 (or a time such as 2026-12-01T09:30:00Z)", name)
	}
	return &t, nil
}

// Values are the window's query parameters, as typed.
func (w ResultsWindow) Values() url.Values {
	v := url.Values{}
	if w.RawSince != "" {
		v.Set("since", w.RawSince)
	}
	if w.RawUntil != "" {
		v.Set("until", w.RawUntil)
	}
	if w.ByVersion {
		v.Set("by", "version")
	}
	return v
}
