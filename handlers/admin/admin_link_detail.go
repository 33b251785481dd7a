package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// chartDays is how many days the link page charts.
const chartDays = 30

// LinkDetailPage is GET /admin/links/{slug}: the link's facts, its clicks
// per day for the last 30 days and a copy button for its short URL.
func (h *Handlers) LinkDetailPage(c echo.Context) error {
	l, err := h.LinkParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	days, err := h.Store.DailyClicks(ctx, l.ID, chartDays)
	if err != nil {
		return err
	}
	// Counted on the link a tap redirects to, like clicks: a superseded
	// link's suspect taps are shown on its survivor's page.
	suspect, err := h.Store.SuspectTaps(ctx, l.ID)
	if err != nil {
		return err
	}
	d := views.LinkDetail{
		Slug: l.Slug, ShortURL: h.ShortURL(l.Slug), Destination: l.DestinationURL,
		DestinationHref: httpHref(l.DestinationURL), Type: l.LinkType, Active: l.IsActive,
		Clicks: l.ClickCount, Previews: l.PreviewCount, SuspectTaps: suspect,
		Created: displayTime(l.CreatedAt), CreatedISO: l.CreatedAt.UTC().Format(time.RFC3339),
		Updated: displayTime(l.UpdatedAt), UpdatedISO: l.UpdatedAt.UTC().Format(time.RFC3339),
		Chart: clickChart(days), Flash: web.FlashFrom(c), CSRF: web.CSRFToken(c), Return: "/admin/links/" + l.Slug,
	}
	if l.CreatedBy != nil {
		d.CreatedBy = *l.CreatedBy
	}
	if l.BusinessID != nil {
		b, err := h.Store.GetBusiness(ctx, *l.BusinessID)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		d.Business = b.Name
	}
	if l.SupersededBy != nil {
		d.MergedInto, d.MergedURL, d.Forwarded = *l.SupersededBy, "/admin/links/"+*l.SupersededBy, l.ForwardedClicks
	} else if !l.IsActive {
		current, err := h.Store.ActiveLinkSharingDestination(ctx, l.Slug)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		if current.Slug != "" {
			d.CurrentSlug, d.CurrentURL = current.Slug, "/admin/links/"+current.Slug
		}
	}
	return web.Render(c, http.StatusOK, views.LinkDetailPage(h.Chrome(c, "Link "+l.Slug, "links"), d))
}

// Geometry of the click chart, in SVG units: one slot per day between the
// axis labels on the left and the right edge.
const (
	chartWidth    = 640
	chartPlotLeft = 40
	chartSlot     = 19 // 30 slots of 19 fill 570 units
	chartBarWidth = 15
	chartTop      = 16
	chartBaseline = 176
	chartHeight   = chartBaseline + 22
)

// clickChart lays out one bar per day, scaled so the busiest day fills the
// plot; a day with any click gets at least one unit so it stays visible.
func clickChart(days []db.DayCount) views.Chart {
	ch := views.Chart{Width: chartWidth, Height: chartHeight, BaselineY: chartBaseline,
		PlotLeft: chartPlotLeft, PlotRight: chartPlotLeft + chartSlot*len(days)}
	var peak db.DayCount
	for _, d := range days {
		ch.Clicks += d.Clicks
		ch.Previews += d.Previews
		if d.Clicks > peak.Clicks {
			peak = d
		}
	}
	plot := int64(chartBaseline - chartTop)
	for i, d := range days {
		bar := views.Bar{X: chartPlotLeft + i*chartSlot + (chartSlot-chartBarWidth)/2, W: chartBarWidth,
			Day: d.Day.Format(time.DateOnly), Clicks: d.Clicks, Previews: d.Previews}
		if peak.Clicks > 0 {
			bar.H = int((d.Clicks*plot + peak.Clicks/2) / peak.Clicks)
			if d.Clicks > 0 && bar.H == 0 {
				bar.H = 1
			}
		}
		bar.Y = chartBaseline - bar.H
		ch.Bars = append(ch.Bars, bar)
		// A date under every seventh bar, ending with today.
		if (len(days)-1-i)%7 == 0 {
			ch.XLabels = append(ch.XLabels, views.AxisLabel{X: bar.X + chartBarWidth/2, Y: chartBaseline + 16, Text: d.Day.Format("Jan 2")})
		}
	}
	ch.YLabels = []views.AxisLabel{{X: chartPlotLeft - 6, Y: chartBaseline, Text: "0"}}
	if peak.Clicks > 0 {
		ch.YLabels = append(ch.YLabels, views.AxisLabel{X: chartPlotLeft - 6, Y: chartTop + 4, Text: strconv.FormatInt(peak.Clicks, 10)})
	}
	ch.Empty = peak.Clicks == 0
	ch.Summary = chartSummary(days, ch.Clicks, peak)
	return ch
}

func chartSummary(days []db.DayCount, clicks int64, peak db.DayCount) string {
	if len(days) == 0 {
		return "No data"
	}
	s := fmt.Sprintf("Clicks per day from %s to %s: %d in total", days[0].Day.Format(time.DateOnly),
		days[len(days)-1].Day.Format(time.DateOnly), clicks)
	if peak.Clicks > 0 {
		s += fmt.Sprintf(", most on %s (%d)", peak.Day.Format(time.DateOnly), peak.Clicks)
	}
	return s + "."
}
