package web

import (
	"cmp"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/views"
)

// linkQuery is the listing's filter, sort and page as the URL carries them;
// the CSV export and GET /api/v1/links read the same parameters.
type LinkQuery struct {
	Query string // q
	// SearchURL and SearchDomain are q as a full URL (normalised) and as a
	// domain (LinkSearch); "" when it is not one.
	SearchURL, SearchDomain string
	Type                    string      // type
	Active                  string      // active: "", "true" or "false"
	Sort                    db.LinkSort // sort: one of db.LinkSorts
	Cursor                  *db.Cursor  // cursor: where the page starts (or ends); nil on the first page
}

// linkSortLabels are the names the listing's order menu shows; the orders
// themselves (and their URL names) are db.LinkSorts.
var linkSortLabels = map[db.LinkSort]string{
	db.SortNewest: "Newest first", db.SortOldest: "Oldest first",
	db.SortMostClicks: "Most clicks", db.SortFewestClicks: "Fewest clicks",
}

// linkSorts are the listing's orders, as the form offers them.
func LinkSorts() []views.Option {
	opts := make([]views.Option, 0, len(db.LinkSorts()))
	for _, s := range db.LinkSorts() {
		opts = append(opts, views.Option{Value: string(s), Label: linkSortLabels[s]})
	}
	return opts
}

// ReadLinkQuery reads and checks the listing parameters. A bad value is a
// 400 naming the parameter, never a silently different listing.
func (h *Base) ReadLinkQuery(c echo.Context) (LinkQuery, error) {
	search, err := SearchParam(c, "q")
	if err != nil {
		return LinkQuery{}, err
	}
	q := LinkQuery{
		Query:  search,
		Type:   c.QueryParam("type"),
		Active: c.QueryParam("active"),
		Sort:   cmp.Or(db.LinkSort(c.QueryParam("sort")), db.SortNewest),
	}
	q.SearchURL, q.SearchDomain = h.LinkSearch(search)
	switch {
	case q.Type != "" && !h.KnownLinkType(q.Type):
		return q, Invalid("type", "type must be empty or one of: %s", strings.Join(h.Cfg.LinkTypes, ", "))
	case q.Active != "" && q.Active != "true" && q.Active != "false":
		return q, Invalid("active", "active must be empty, true or false")
	case !q.Sort.Valid():
		return q, Invalid("sort", "sort must be newest, oldest, most_clicks or fewest_clicks")
	}
	q.Cursor, err = CursorParam(c, string(q.Sort))
	return q, err
}

// cursorParam reads ?cursor=, which must come from a listing in order.
func CursorParam(c echo.Context, order string) (*db.Cursor, error) {
	token := c.QueryParam("cursor")
	if token == "" {
		return nil, nil
	}
	cur, err := db.ParseCursor(token)
	if err != nil || cur.Order != order || len(token) > 1000 {
		return nil, Invalid("cursor", "cursor must be a next_cursor (or page link) of this listing in the same sort")
	}
	return &cur, nil
}

// Filter is the store filter for one page of pageSize links.
func (q LinkQuery) Filter(pageSize int) db.ListFilter {
	f := db.ListFilter{Query: q.Query, URL: q.SearchURL, Domain: q.SearchDomain, LinkType: q.Type, Sort: q.Sort, Limit: pageSize, Cursor: q.Cursor}
	if q.Active != "" {
		active := q.Active == "true"
		f.Active = &active
	}
	return f
}

// URL is path with q's parameters, leaving out defaults so URLs stay short.
func (q LinkQuery) URL(path string) string {
	v := url.Values{}
	set := func(name, value, def string) {
		if value != def {
			v.Set(name, value)
		}
	}
	set("q", q.Query, "")
	set("type", q.Type, "")
	set("active", q.Active, "")
	set("sort", string(q.Sort), string(db.SortNewest))
	if q.Cursor != nil {
		v.Set("cursor", q.Cursor.String())
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// At is q on the page a cursor marks (nil: the first page).
func (q LinkQuery) At(c *db.Cursor) LinkQuery {
	q.Cursor = c
	return q
}

// Filtered reports whether q narrows the listing at all.
func (q LinkQuery) Filtered() bool { return q.Query != "" || q.Type != "" || q.Active != "" }

// safeReturn keeps the page an action form comes back to inside the link
// pages: the listing (with its filter) or one link's page. Anything else,
// such as another host or a scheme, falls back to the listing. Flash
// parameters are dropped so they do not pile up.
func SafeReturn(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		strings.ContainsAny(raw, "\\\r\n") || strings.HasPrefix(raw, "//") {
		return "/admin/links"
	}
	slug, isDetail := strings.CutPrefix(u.Path, "/admin/links/")
	if u.Path != "/admin/links" && !(isDetail && ValidSlug(slug)) {
		return "/admin/links"
	}
	v := u.Query()
	for _, k := range []string{"msg", "slug", "other"} {
		v.Del(k)
	}
	if len(v) == 0 {
		return u.Path
	}
	return u.Path + "?" + v.Encode()
}

// withFlash adds a flash message, by name, to a return URL.
func WithFlash(ret, msg, slug, other string) string {
	v := url.Values{"msg": {msg}, "slug": {slug}}
	if other != "" {
		v.Set("other", other)
	}
	sep := "?"
	if strings.Contains(ret, "?") {
		sep = "&"
	}
	return ret + sep + v.Encode()
}

// flashFrom turns the flash parameters into one of a fixed set of messages.
// Only validated slugs are put into them, so a crafted URL cannot make the
// console say anything else.
func FlashFrom(c echo.Context) *views.Flash {
	slug := c.QueryParam("slug")
	if !ValidSlug(slug) {
		return nil
	}
	switch c.QueryParam("msg") {
	case "deactivated":
		return &views.Flash{OK: true, Text: "Link " + slug + " is deactivated: its short URL now answers 410 Gone."}
	case "activated":
		return &views.Flash{OK: true, Text: "Link " + slug + " is active again."}
	case "conflict":
		text := "Link " + slug + " was not reactivated: another active link already points to this destination"
		if other := c.QueryParam("other"); ValidSlug(other) {
			text += " (slug " + other + ")"
		}
		return &views.Flash{Text: text + ". Deactivate that one first."}
	}
	return nil
}
