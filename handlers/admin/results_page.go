package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// ResultsPage is GET /admin/results: the same figures as the API, and a
// plain sentence saying whether one variant is ahead. A bad date keeps
// the form as typed and says what is wrong (400), instead of an error page.
func (h *Handlers) ResultsPage(c echo.Context) error {
	w, err := web.ResultsWindowParams(c)
	p := views.ResultsPage{Since: w.RawSince, Until: w.RawUntil, ByVersion: w.ByVersion, Presets: resultPresets(w, time.Now())}
	var apiErr *web.APIError
	if errors.As(err, &apiErr) && apiErr.Field != "" {
		p.Error, p.Field = web.Capitalize(apiErr.Message)+".", apiErr.Field
		p.Verdict = "Choose the dates again to see results."
		return web.Render(c, http.StatusBadRequest, views.Results(h.Chrome(c, "Results", "results"), p))
	}
	if err != nil {
		return err
	}
	r, err := h.ResultsFor(c.Request().Context(), w)
	if err != nil {
		return err
	}
	p.Verdict = verdict(r.Variants)
	if w.ByVersion {
		for _, v := range *r.ByVersion {
			row := resultRow(v.VariantResult)
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
	return web.Render(c, http.StatusOK, views.Results(h.Chrome(c, "Results", "results"), p))
}

// resultsHref is the results page for the window (without the version
// split unless keepBy).
func resultsHref(w web.ResultsWindow, keepBy bool) string {
	v := w.Values()
	if !keepBy {
		v.Del("by")
	}
	if len(v) == 0 {
		return "/admin/results"
	}
	return "/admin/results?" + v.Encode()
}

// resultPresets are the quick windows: the last 7 and 30 days (today
// included, UTC) and all time.
func resultPresets(w web.ResultsWindow, now time.Time) []views.DatePreset {
	today := now.UTC().Format(time.DateOnly)
	preset := func(label string, days int) views.DatePreset {
		pw := web.ResultsWindow{ByVersion: w.ByVersion}
		if days > 0 {
			pw.RawSince, pw.RawUntil = now.UTC().AddDate(0, 0, 1-days).Format(time.DateOnly), today
		}
		return views.DatePreset{Label: label, Href: resultsHref(pw, true),
			Active: pw.RawSince == w.RawSince && pw.RawUntil == w.RawUntil}
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
