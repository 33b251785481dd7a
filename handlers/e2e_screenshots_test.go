package handlers_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// updateDocScreenshots rewrites docs/screenshots/*.png from the running
// browser (UPDATE_SCREENSHOTS=1). A page that answers with an error page
// keeps its previous screenshot rather than a picture of the error.
func updateDocScreenshots(t *testing.T, ctx context.Context, app *testApp, base, campaignPage, slug string) {
	t.Helper()
	for _, b := range [][3]string{
		{"Northside Plumbing & Heating", "Denver", "https://northsideplumbing.example.com/"},
		{"Café Lumière", "Montréal", "https://cafelumiere.example.com/menu"},
		{"Iron Temple Gym", "Phoenix", "https://irontemplegym.example.com/"},
	} {
		biz := app.addBusiness(t, b[0], b[1], b[2])
		app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(biz.ID, "friendly"))
	}
	// A month of taps on the previewed link, so the chart has a shape.
	app.Store.DB().MustExec(`WITH days AS (
			INSERT INTO link_clicks_daily (link_id, day, clicks, previews)
			SELECT l.id, d::date, 20 + (17 * extract(day FROM d)::int) % 45, (7 * extract(day FROM d)::int) % 5
			FROM short_links l, generate_series(((now() AT TIME ZONE 'UTC')::date) - 29, ((now() AT TIME ZONE 'UTC')::date), interval '1 day') d
			WHERE l.slug = $1
			RETURNING link_id, clicks, previews)
		UPDATE short_links l SET click_count = t.clicks, preview_count = t.previews
		FROM (SELECT link_id, SUM(clicks) AS clicks, SUM(previews) AS previews FROM days GROUP BY link_id) t
		WHERE l.id = t.link_id`, slug)
	dir := filepath.Join("..", "docs", "screenshots")
	for _, p := range []struct{ name, path string }{
		{"campaign-preview", campaignPage + "?variant=friendly"},
		{"links", "/admin/links"},
		{"link-detail", "/admin/links/" + slug},
		{"health", "/admin/health"},
		{"results", "/admin/results"},
	} {
		run(t, ctx, "open "+p.path, chromedp.Do(ctx, chromedp.Navigate(base+p.path), chromedp.WaitReady(chromedp.CSS("main"))))
		isError, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('.error-page')`))
		run(t, ctx, "check "+p.path, err)
		if isError {
			t.Logf("UPDATE_SCREENSHOTS: %s answers an error page here; %s.png not updated", p.path, p.name)
			continue
		}
		saveScreenshot(t, ctx, filepath.Join(dir, p.name+".png"))
		t.Logf("UPDATE_SCREENSHOTS: wrote %s", filepath.Join(dir, p.name+".png"))
	}
}
