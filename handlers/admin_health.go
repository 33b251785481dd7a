package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/views"
)

// healthPages registers the duplicate-health dashboard under /admin.
func (h *Handlers) healthPages(admin *echo.Group) {
	get(admin, "/health", h.HealthPage)
	get(admin, "/health/heal", h.HealPage) // admin_heal.go
	admin.POST("/health/heal", h.HealNow)
}

// HealthPage is GET /admin/health: whether the one-active-link guarantee
// holds, from the same figures as GET /api/v1/health/duplicates. Opening
// the page always checks afresh; its panel's self-refresh (an htmx poll of
// this URL) may reuse a check from the last few seconds.
func (h *Handlers) HealthPage(c echo.Context) error {
	maxAge := time.Duration(0)
	if c.Request().Header.Get("HX-Request") == "true" {
		maxAge = healthPollMaxAge
	}
	hs, err := h.recentHealth(c.Request().Context(), maxAge)
	if err != nil {
		return err
	}
	p := healthView(hs)
	if n, err := strconv.Atoi(c.QueryParam("healed")); err == nil && n >= 0 {
		p.Healed = &n
	}
	return render(c, http.StatusOK, views.Health(h.chrome(c, "Health", "health"), p))
}

// healthPollMaxAge is how old a check the dashboard's self-refresh accepts.
const healthPollMaxAge = 5 * time.Second

func healthView(hs healthJSON) views.HealthPage {
	p := views.HealthPage{
		DuplicateGroups: hs.DuplicateGroups, DuplicateLinks: hs.DuplicateLinks,
		IndexPresent: hs.UniqueIndexPresent, IndexName: db.UniqueIndexName,
		ActiveLinks: hs.ActiveLinks, InactiveLinks: hs.InactiveLinks, HistoryLinks: hs.HistoryLinks,
		ConflictsSinceStart: hs.ConflictsResolved, ConflictsTotal: hs.ConflictsTotal,
		MoreGroups: hs.DuplicateGroups > len(hs.Groups), // the store lists the largest 100
		CheckedAt:  hs.CheckedAt.UTC().Format("2006-01-02 15:04:05 UTC"), CheckedAtISO: hs.CheckedAt.UTC().Format(time.RFC3339),
	}
	for _, g := range hs.Groups {
		p.Groups = append(p.Groups, views.DuplicateGroupRow{
			Destination: g.DestinationURL, DestinationShort: shorten(g.DestinationURL, destinationDisplayLength),
			Type: g.LinkType, Links: g.Links, Slugs: g.Slugs, FirstCreated: displayTime(g.FirstCreated),
		})
	}
	return p
}
