package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

// resultsJSON is GET /api/v1/campaigns/results. ByVersion is present
// with ?by=version: each variant's line per template version.
type resultsJSON struct {
	Variants  []variantResult `json:"variants"`
	ByVersion []versionResult `json:"by_version,omitempty"`
	Since     *time.Time      `json:"since"`
	Until     *time.Time      `json:"until"`
}

// versionResult is a variant's results for one template version
// (template_version 0: the configured default; null: sends recorded
// before versions were kept).
type versionResult struct {
	variantResult
	TemplateVersion *int `json:"template_version"`
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

// results reads since/until (and by=version) and builds every variant's
// line, with zeros for variants without sends.
func (h *Handlers) results(c echo.Context) (resultsJSON, error) {
	w, err := resultsWindowParams(c)
	if err != nil {
		return resultsJSON{}, err
	}
	return h.resultsFor(c.Request().Context(), w)
}

func (h *Handlers) resultsFor(ctx context.Context, w resultsWindow) (resultsJSON, error) {
	rows, err := h.store.CampaignResults(ctx, w.since, w.until)
	if err != nil {
		return resultsJSON{}, err
	}
	byVariant := map[string]db.VariantResult{}
	for _, r := range rows {
		byVariant[r.Variant] = r
	}
	out := resultsJSON{Since: w.since, Until: w.until, Variants: make([]variantResult, 0, len(messages.Variants))}
	for _, v := range messages.Variants {
		r := byVariant[v]
		r.Variant = v
		out.Variants = append(out.Variants, h.variantResult(r))
	}
	if w.byVersion {
		versions, err := h.store.CampaignResultsByVersion(ctx, w.since, w.until)
		if err != nil {
			return resultsJSON{}, err
		}
		out.ByVersion = make([]versionResult, 0, len(versions))
		for _, r := range versions {
			out.ByVersion = append(out.ByVersion, versionResult{variantResult: h.variantResult(r), TemplateVersion: r.TemplateVersion})
		}
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

// resultsWindow is the sends a results view covers: sent_at in [since,
// until) (nil: unbounded), as typed (raw*, for the form) and whether
// each variant is split by template version.
type resultsWindow struct {
	since, until       *time.Time
	rawSince, rawUntil string
	byVersion          bool
}

// resultsWindowParams reads ?since=&until=&by=. Each bound is a date
// (2026-12-01, midnight UTC; an until date counts its whole day) or an
// RFC 3339 time (2026-12-01T09:30:00Z, exact).
func resultsWindowParams(c echo.Context) (resultsWindow, error) {
	w := resultsWindow{rawSince: strings.TrimSpace(c.QueryParam("since")), rawUntil: strings.TrimSpace(c.QueryParam("until"))}
	switch by := c.QueryParam("by"); by {
	case "":
	case "version":
		w.byVersion = true
	default:
		return w, invalid("by", "by must be version (or left out)")
	}
	var err error
	if w.since, err = timeBound("since", w.rawSince, false); err != nil {
		return w, err
	}
	if w.until, err = timeBound("until", w.rawUntil, true); err != nil {
		return w, err
	}
	if w.since != nil && w.until != nil && !w.until.After(*w.since) {
		return w, invalid("until", "until must be later than since")
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
		return nil, invalid(name, "%s must be a date such as 2026-12-01 (or a time such as 2026-12-01T09:30:00Z)", name)
	}
	return &t, nil
}

// values are the window's query parameters, as typed.
func (w resultsWindow) values() url.Values {
	v := url.Values{}
	if w.rawSince != "" {
		v.Set("since", w.rawSince)
	}
	if w.rawUntil != "" {
		v.Set("until", w.rawUntil)
	}
	if w.byVersion {
		v.Set("by", "version")
	}
	return v
}

// href is the results page for the window (without the version split
// unless keepBy).
func (w resultsWindow) href(keepBy bool) string {
	v := w.values()
	if !keepBy {
		v.Del("by")
	}
	if len(v) == 0 {
		return "/admin/results"
	}
	return "/admin/results?" + v.Encode()
}

// ResultsPage is GET /admin/results: the same figures as the API, and a
// plain sentence saying whether one variant is ahead. A bad date keeps
// the form as typed and says what is wrong (400), instead of an error page.
func (h *Handlers) ResultsPage(c echo.Context) error {
	w, err := resultsWindowParams(c)
	p := views.ResultsPage{Since: w.rawSince, Until: w.rawUntil, ByVersion: w.byVersion, Presets: resultPresets(w, time.Now())}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Field != "" {
		p.Error, p.Field = capitalize(apiErr.Message)+".", apiErr.Field
		p.Verdict = "Choose the dates again to see results."
		return render(c, http.StatusBadRequest, views.Results(h.chrome(c, "Results", "results"), p))
	}
	if err != nil {
		return err
	}
	r, err := h.resultsFor(c.Request().Context(), w)
	if err != nil {
		return err
	}
	p.Verdict = verdict(r.Variants)
	if w.byVersion {
		for _, v := range r.ByVersion {
			row := resultRow(v.variantResult)
			row.Version = versionLabel(v.TemplateVersion)
			p.Rows = append(p.Rows, row)
		}
	} else {
		for _, v := range r.Variants {
			row := resultRow(v)
			row.SentHref, row.TappedHref = variantBusinessesHref(v.Variant, false, w), variantBusinessesHref(v.Variant, true, w)
			p.Rows = append(p.Rows, row)
		}
	}
	return render(c, http.StatusOK, views.Results(h.chrome(c, "Results", "results"), p))
}

// resultPresets are the quick windows: the last 7 and 30 days (today
// included, UTC) and all time.
func resultPresets(w resultsWindow, now time.Time) []views.DatePreset {
	today := now.UTC().Format(time.DateOnly)
	preset := func(label string, days int) views.DatePreset {
		pw := resultsWindow{byVersion: w.byVersion}
		if days > 0 {
			pw.rawSince, pw.rawUntil = now.UTC().AddDate(0, 0, 1-days).Format(time.DateOnly), today
		}
		return views.DatePreset{Label: label, Href: pw.href(true),
			Active: pw.rawSince == w.rawSince && pw.rawUntil == w.rawUntil}
	}
	return []views.DatePreset{preset("Last 7 days", 7), preset("Last 30 days", 30), preset("All time", 0)}
}

func versionLabel(v *int) string {
	switch {
	case v == nil:
		return "before versions"
	case *v == 0:
		return "default"
	}
	return fmt.Sprintf("v%d", *v)
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
