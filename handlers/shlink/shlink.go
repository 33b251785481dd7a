package shlink

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// shlinkAPIVersion is the Shlink release whose REST API v3 this subset
// follows; clients read it from /rest/health to decide what to offer.
const shlinkAPIVersion = "4.0.0"

// shlinkShortURL is Shlink's short URL object. Visits are our counters:
// clicks are non-bot visits and previews (link unfurlers, HEAD) are bots.
type shlinkShortURL struct {
	ShortCode        string             `json:"shortCode"`
	ShortURL         string             `json:"shortUrl"`
	LongURL          string             `json:"longUrl"`
	DeviceLongURLs   map[string]*string `json:"deviceLongUrls"`
	DateCreated      string             `json:"dateCreated"`
	VisitsSummary    shlinkVisits       `json:"visitsSummary"`
	Tags             []string           `json:"tags"`
	Meta             shlinkMeta         `json:"meta"`
	Domain           *string            `json:"domain"`
	Title            *string            `json:"title"`
	Crawlable        bool               `json:"crawlable"`
	ForwardQuery     bool               `json:"forwardQuery"`
	HasRedirectRules bool               `json:"hasRedirectRules"`
}

type shlinkVisits struct {
	Total   int64 `json:"total"`
	NonBots int64 `json:"nonBots"`
	Bots    int64 `json:"bots"`
}

// shlinkMeta is always empty: links here neither start late, expire nor
// run out of visits.
type shlinkMeta struct {
	ValidSince *string `json:"validSince"`
	ValidUntil *string `json:"validUntil"`
	MaxVisits  *int    `json:"maxVisits"`
}

func (h *Handlers) toShlinkShortURL(l db.Link) shlinkShortURL {
	return shlinkShortURL{
		ShortCode: l.Slug, ShortURL: h.ShortURL(l.Slug), LongURL: l.DestinationURL,
		DeviceLongURLs: map[string]*string{"android": nil, "ios": nil, "desktop": nil},
		DateCreated:    l.CreatedAt.UTC().Format("2006-01-02T15:04:05-07:00"), // Shlink's ATOM format
		VisitsSummary:  shlinkVisits{Total: l.ClickCount + l.PreviewCount, NonBots: l.ClickCount, Bots: l.PreviewCount},
		Tags:           []string{},
	}
}

// shlinkCreateRequest is Shlink's creation body. The fields this service
// cannot honour are read only to refuse them by name.
type shlinkCreateRequest struct {
	LongURL         *string         `json:"longUrl"`
	FindIfExists    *bool           `json:"findIfExists"`
	Tags            []string        `json:"tags"`
	Title           *string         `json:"title"`
	Crawlable       *bool           `json:"crawlable"`
	ForwardQuery    *bool           `json:"forwardQuery"`
	Domain          *string         `json:"domain"`
	ValidSince      json.RawMessage `json:"validSince"`
	ValidUntil      json.RawMessage `json:"validUntil"`
	MaxVisits       json.RawMessage `json:"maxVisits"`
	CustomSlug      json.RawMessage `json:"customSlug"`
	ShortCodeLength json.RawMessage `json:"shortCodeLength"`
	PathPrefix      json.RawMessage `json:"pathPrefix"`
	DeviceLongURLs  json.RawMessage `json:"deviceLongUrls"`
}

// unsupported names the first field given that this service cannot honour.
func (r shlinkCreateRequest) unsupported() *shlinkProblem {
	for _, f := range []struct {
		name string
		v    json.RawMessage
		why  string
	}{
		{"validSince", r.ValidSince, "links are valid from creation"},
		{"validUntil", r.ValidUntil, "links do not expire; retire one with DELETE instead"},
		{"maxVisits", r.MaxVisits, "links have no visit limit"},
		{"customSlug", r.CustomSlug, "short codes are generated"},
		{"shortCodeLength", r.ShortCodeLength, "the short code length is set by SLUG_LENGTH"},
		{"pathPrefix", r.PathPrefix, "short codes are generated"},
		{"deviceLongUrls", r.DeviceLongURLs, "a link has one destination for every device"},
	} {
		if len(f.v) > 0 && string(f.v) != "null" {
			return invalidShlinkData(f.name+" is not supported: "+f.why+".", f.name)
		}
	}
	return nil
}

// ShlinkCreateShortURL is POST /rest/v3/short-urls. Whatever findIfExists
// says, the answer is the one active link for the URL, made through the
// race-free get-or-create: one active link per destination is this
// product's rule, so findIfExists: false does not make a second one.
func (h *Handlers) ShlinkCreateShortURL(c echo.Context) error {
	var body shlinkCreateRequest
	if err := web.DecodeJSON(c, &body); err != nil {
		return err
	}
	if p := body.unsupported(); p != nil {
		return p
	}
	if err := h.checkShlinkDomain(web.Deref(body.Domain)); err != nil {
		return err
	}
	if body.LongURL == nil || *body.LongURL == "" {
		return invalidShlinkData("longUrl is required.", "longUrl")
	}
	dest, err := h.NormalizeURL(*body.LongURL)
	if err != nil {
		return invalidShlinkData("longUrl: "+err.Error()+".", "longUrl")
	}
	link, _, err := h.Store.GetOrCreateLink(c.Request().Context(), db.LinkRequest{DestinationURL: dest, LinkType: h.Cfg.ShlinkLinkType})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toShlinkShortURL(link))
}

// checkShlinkDomain accepts no domain, Shlink's DEFAULT, or our own host.
func (h *Handlers) checkShlinkDomain(domain string) error {
	if domain == "" || domain == "DEFAULT" {
		return nil
	}
	if u, err := url.Parse(h.Cfg.BaseURL); err == nil && u.Host == domain {
		return nil
	}
	return invalidShlinkData("domain must be empty or this service's own host: it serves one domain.", "domain")
}

// shlinkLink finds the link behind a short code. A retired link does not
// exist for Shlink clients: Shlink deletes what they delete.
func (h *Handlers) shlinkLink(ctx context.Context, code string) (db.Link, error) {
	if !web.ValidSlug(code) {
		return db.Link{}, shortURLNotFound(code)
	}
	l, err := h.Store.FindBySlug(ctx, code)
	if errors.Is(err, db.ErrNotFound) || err == nil && !l.IsActive {
		return db.Link{}, shortURLNotFound(code)
	}
	return l, err
}

// ShlinkGetShortURL is GET /rest/v3/short-urls/{shortCode}.
func (h *Handlers) ShlinkGetShortURL(c echo.Context) error {
	if err := h.checkShlinkDomain(c.QueryParam("domain")); err != nil {
		return err
	}
	l, err := h.shlinkLink(c.Request().Context(), c.Param("shortCode"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toShlinkShortURL(l))
}

// ShlinkDeleteShortURL is DELETE /rest/v3/short-urls/{shortCode}: the link
// is retired, not erased (its counts stay), and its slug answers 410.
func (h *Handlers) ShlinkDeleteShortURL(c echo.Context) error {
	if err := h.checkShlinkDomain(c.QueryParam("domain")); err != nil {
		return err
	}
	code := c.Param("shortCode")
	if _, err := h.shlinkLink(c.Request().Context(), code); err != nil {
		return err
	}
	if _, err := h.Store.Deactivate(c.Request().Context(), code); err != nil {
		return err
	}
	h.Redirects.Invalidate(code)
	return c.NoContent(http.StatusNoContent)
}

// shlinkPagination is Shlink's page description.
type shlinkPagination struct {
	CurrentPage        int `json:"currentPage"`
	PagesCount         int `json:"pagesCount"`
	ItemsPerPage       int `json:"itemsPerPage"`
	ItemsInCurrentPage int `json:"itemsInCurrentPage"`
	TotalItems         int `json:"totalItems"`
}

func newShlinkPagination(page, perPage, items, total int) shlinkPagination {
	return shlinkPagination{CurrentPage: page, PagesCount: (total + perPage - 1) / perPage,
		ItemsPerPage: perPage, ItemsInCurrentPage: items, TotalItems: total}
}

// shlinkPage reads page and itemsPerPage (default 10; -1, Shlink's "all",
// is the largest page, 500).
func shlinkPage(c echo.Context) (page, perPage int, err error) {
	page, perPage = 1, 10
	if v := c.QueryParam("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 || page > 1_000_000 {
			return 0, 0, invalidShlinkData("page must be a whole number from 1.", "page")
		}
	}
	if v := c.QueryParam("itemsPerPage"); v != "" {
		if perPage, err = strconv.Atoi(v); err != nil || perPage == 0 || perPage < -1 {
			return 0, 0, invalidShlinkData("itemsPerPage must be a whole number from 1, or -1 for the largest page (500).", "itemsPerPage")
		}
		if perPage == -1 || perPage > 500 {
			perPage = 500
		}
	}
	return page, perPage, nil
}
