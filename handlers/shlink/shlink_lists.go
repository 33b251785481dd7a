package shlink

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// shlinkOrders maps Shlink's orderBy onto the listing's sorts. Visits sort
// by clicks (non-bot visits); previews are not a sort key of the listing.
var shlinkOrders = map[string]db.LinkSort{
	"dateCreated-ASC": db.SortOldest, "dateCreated-DESC": db.SortNewest,
	"visits-ASC": db.SortFewestClicks, "visits-DESC": db.SortMostClicks,
	"nonBotVisits-ASC": db.SortFewestClicks, "nonBotVisits-DESC": db.SortMostClicks,
}

// ShlinkListShortURLs is GET /rest/v3/short-urls: active links, newest
// first unless orderBy says otherwise, searchTerm on code and long URL.
func (h *Handlers) ShlinkListShortURLs(c echo.Context) error {
	f, page, perPage, err := h.shlinkListFilter(c)
	if err != nil {
		return err
	}
	out := []shlinkShortURL{}
	total := 0
	// Links here have no tags, so a tag filter matches nothing.
	if len(c.QueryParams()["tags[]"]) == 0 {
		// Exact up to 1,000 matches, the planner's estimate past that:
		// Shlink's totalItems is for a pager, not accounting.
		lp, count, err := h.Store.ListLinksCounted(c.Request().Context(), f)
		if err != nil {
			return err
		}
		for _, l := range lp.Links {
			out = append(out, h.toShlinkShortURL(l.Link))
		}
		total = int(count.N)
	}
	return c.JSON(http.StatusOK, map[string]any{"shortUrls": map[string]any{
		"data": out, "pagination": newShlinkPagination(page, perPage, len(out), total)}})
}

func (h *Handlers) shlinkListFilter(c echo.Context) (f db.ListFilter, page, perPage int, err error) {
	page, perPage, err = shlinkPage(c)
	if err != nil {
		return f, 0, 0, err
	}
	q, err := web.SearchParam(c, "searchTerm")
	if err != nil {
		return f, 0, 0, err
	}
	// A date that is not one is refused as it is on every endpoint (an
	// ISO 8601 date first), then, being a filter the listing lacks, as
	// unsupported.
	if err := checkShlinkDates(c); err != nil {
		return f, 0, 0, err
	}
	for _, name := range []string{"startDate", "endDate", "excludeTags[]", "apiKeyName"} {
		if c.QueryParam(name) != "" {
			return f, 0, 0, invalidShlinkData(strings.TrimSuffix(name, "[]")+" is not supported as a filter.", strings.TrimSuffix(name, "[]"))
		}
	}
	if err := h.checkShlinkDomain(c.QueryParam("domain")); err != nil {
		return f, 0, 0, err
	}
	active := true
	f = db.ListFilter{Query: q, Active: &active, Limit: perPage, Offset: (page - 1) * perPage}
	f.URL, f.Domain = h.LinkSearch(q)
	if o := c.QueryParam("orderBy"); o != "" {
		order, ok := shlinkOrders[o]
		if !ok {
			return f, 0, 0, invalidShlinkData("orderBy must be dateCreated, visits or nonBotVisits, each followed by -ASC or -DESC.", "orderBy")
		}
		f.Sort = order
	}
	return f, page, perPage, nil
}

// ShlinkShortURLVisits is GET /rest/v3/short-urls/{shortCode}/visits.
// Taps are counted, not stored one by one (no IP, agent or referrer is
// kept), so the page of individual visits is always empty; the totals are
// in the short URL's visitsSummary.
func (h *Handlers) ShlinkShortURLVisits(c echo.Context) error {
	page, perPage, err := shlinkPage(c)
	if err != nil {
		return err
	}
	// Dates are honoured trivially (no visit is stored one by one), but
	// validated as everywhere.
	if err := checkShlinkDates(c); err != nil {
		return err
	}
	if _, err := h.shlinkLink(c.Request().Context(), c.Param("shortCode")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"visits": map[string]any{
		"data": []any{}, "pagination": newShlinkPagination(page, perPage, 0, 0)}})
}

// ShlinkVisitsOverview is GET /rest/v3/visits: every link's clicks (non-bot)
// and previews (bots). Unknown slugs are not recorded, so there are no
// orphan visits.
func (h *Handlers) ShlinkVisitsOverview(c echo.Context) error {
	t, err := h.Store.TrafficTotals(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"visits": map[string]any{
		"nonOrphanVisits":   shlinkVisits{Total: t.Clicks + t.Previews, NonBots: t.Clicks, Bots: t.Previews},
		"orphanVisits":      shlinkVisits{},
		"visitsCount":       t.Clicks + t.Previews,
		"orphanVisitsCount": 0,
	}})
}

// ShlinkHealth is GET /rest/health and /rest/v3/health (no key, as in
// Shlink): pass when the database answers within a second.
func (h *Handlers) ShlinkHealth(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
	defer cancel()
	status, code := "pass", http.StatusOK
	if err := h.Store.Ping(ctx); err != nil {
		h.Log.Warn("shlink health: database unreachable", "err", err)
		status, code = "fail", http.StatusServiceUnavailable
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/health+json")
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.Response().WriteHeader(code)
	return json.NewEncoder(c.Response()).Encode(map[string]any{"status": status, "version": shlinkAPIVersion,
		"links": map[string]string{"about": h.Cfg.BaseURL + "/api/v1/openapi.json"}})
}

// checkShlinkDates validates startDate and endDate the same way on every
// Shlink endpoint that takes them: an ISO 8601 date-time (as Shlink's
// clients send, e.g. 2026-12-01T00:00:00+00:00) or a date, and a range
// that does not end before it starts.
func checkShlinkDates(c echo.Context) error {
	var dates [2]time.Time
	for i, name := range []string{"startDate", "endDate"} {
		raw := c.QueryParam(name)
		if raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			t, err = time.Parse(time.DateOnly, raw)
		}
		if err != nil {
			return invalidShlinkData(name+" must be an ISO 8601 date, such as 2026-12-01 or 2026-12-01T00:00:00+00:00.", name)
		}
		dates[i] = t
	}
	if !dates[0].IsZero() && !dates[1].IsZero() && dates[1].Before(dates[0]) {
		return invalidShlinkData("endDate must not be before startDate.", "endDate")
	}
	return nil
}
