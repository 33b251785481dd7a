package handlers

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/views"
)

// linkQuery is the listing's filter, sort and page as the URL carries them;
// the CSV export reads the same parameters.
type linkQuery struct {
	Query  string // q
	Type   string // type
	Active string // active: "", "true" or "false"
	Sort   string // sort: see linkSorts
	Page   int    // page, from 1
}

// linkSorts are the listing's orders, as the form offers them.
func linkSorts() []views.Option {
	return []views.Option{
		{Value: "newest", Label: "Newest first"},
		{Value: "oldest", Label: "Oldest first"},
		{Value: "most_clicks", Label: "Most clicks"},
		{Value: "fewest_clicks", Label: "Fewest clicks"},
	}
}

// readLinkQuery reads and checks the listing parameters. A bad value is a
// 400 naming the parameter, never a silently different listing.
func (h *Handlers) readLinkQuery(c echo.Context) (linkQuery, error) {
	search, err := searchParam(c, "q")
	if err != nil {
		return linkQuery{}, err
	}
	q := linkQuery{
		Query:  search,
		Type:   c.QueryParam("type"),
		Active: c.QueryParam("active"),
		Sort:   c.QueryParam("sort"),
		Page:   1,
	}
	switch {
	case q.Type != "" && !h.knownLinkType(q.Type):
		return q, invalid("type", "type must be empty or one of: %s", strings.Join(h.cfg.LinkTypes, ", "))
	case q.Active != "" && q.Active != "true" && q.Active != "false":
		return q, invalid("active", "active must be empty, true or false")
	}
	if q.Sort == "" {
		q.Sort = "newest"
	}
	if _, _, ok := sortOrder(q.Sort); !ok {
		return q, invalid("sort", "sort must be newest, oldest, most_clicks or fewest_clicks")
	}
	if p := c.QueryParam("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1_000_000 {
			return q, invalid("page", "page must be a whole number from 1")
		}
		q.Page = n
	}
	return q, nil
}

// sortOrder maps a sort parameter onto the store's order.
func sortOrder(sort string) (key string, ascending, ok bool) {
	switch sort {
	case "newest":
		return "created", false, true
	case "oldest":
		return "created", true, true
	case "most_clicks":
		return "clicks", false, true
	case "fewest_clicks":
		return "clicks", true, true
	}
	return "", false, false
}

// filter is the store filter for one page of pageSize links.
func (q linkQuery) filter(pageSize int) db.ListFilter {
	key, asc, _ := sortOrder(q.Sort)
	f := db.ListFilter{Query: q.Query, LinkType: q.Type, Sort: key, Ascending: asc,
		Limit: pageSize, Offset: (q.Page - 1) * pageSize}
	if q.Active != "" {
		active := q.Active == "true"
		f.Active = &active
	}
	return f
}

// url is path with q's parameters, leaving out defaults so URLs stay short.
func (q linkQuery) url(path string) string {
	v := url.Values{}
	set := func(name, value, def string) {
		if value != def {
			v.Set(name, value)
		}
	}
	set("q", q.Query, "")
	set("type", q.Type, "")
	set("active", q.Active, "")
	set("sort", q.Sort, "newest")
	set("page", strconv.Itoa(q.Page), "1")
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// filtered reports whether q narrows the listing at all.
func (q linkQuery) filtered() bool { return q.Query != "" || q.Type != "" || q.Active != "" }

// safeReturn keeps the page an action form comes back to inside the link
// pages: the listing (with its filter) or one link's page. Anything else,
// such as another host or a scheme, falls back to the listing. Flash
// parameters are dropped so they do not pile up.
func safeReturn(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		strings.ContainsAny(raw, "\\\r\n") || strings.HasPrefix(raw, "//") {
		return "/admin/links"
	}
	slug, isDetail := strings.CutPrefix(u.Path, "/admin/links/")
	if u.Path != "/admin/links" && !(isDetail && validSlug(slug)) {
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
func withFlash(ret, msg, slug, other string) string {
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
func flashFrom(c echo.Context) *views.Flash {
	slug := c.QueryParam("slug")
	if !validSlug(slug) {
		return nil
	}
	switch c.QueryParam("msg") {
	case "deactivated":
		return &views.Flash{OK: true, Text: "Link " + slug + " is deactivated: its short URL now answers 410 Gone."}
	case "activated":
		return &views.Flash{OK: true, Text: "Link " + slug + " is active again."}
	case "conflict":
		text := "Link " + slug + " was not reactivated: another active link already points to this destination"
		if other := c.QueryParam("other"); validSlug(other) {
			text += " (slug " + other + ")"
		}
		return &views.Flash{Text: text + ". Deactivate that one first."}
	}
	return nil
}
