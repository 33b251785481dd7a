package db

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// LinkSort is an order of the link listings; its name is what page URLs
// and the API carry, so this is the one place a sort name is translated.
type LinkSort string

// The orders of link listings. Each is backed by an index on (key, id)
// (migration 00005), which a keyset page walks for a page's worth of rows.
const (
	SortNewest       LinkSort = "newest"
	SortOldest       LinkSort = "oldest"
	SortMostClicks   LinkSort = "most_clicks"
	SortFewestClicks LinkSort = "fewest_clicks"
)

// LinkSorts lists every order, the default first (a new slice each call).
func LinkSorts() []LinkSort {
	return []LinkSort{SortNewest, SortOldest, SortMostClicks, SortFewestClicks}
}

// Valid reports whether s names an order.
func (s LinkSort) Valid() bool { return slices.Contains(LinkSorts(), s) }

// column is the sort key; id breaks ties.
func (s LinkSort) column() string {
	if s.byClicks() {
		return "click_count"
	}
	return "created_at"
}

// byClicks reports whether the order is by a count that taps change.
func (s LinkSort) byClicks() bool { return s == SortMostClicks || s == SortFewestClicks }

// keyColumns are the sort key and the id as the page's inner query names
// them: the clicks orders walk link_counters' index (link_counters_clicks_idx).
func (s LinkSort) keyColumns() (key, id string) {
	if s.byClicks() {
		return "lc.click_count", "lc.link_id"
	}
	return "created_at", "id"
}

func (s LinkSort) descending() bool { return s == SortNewest || s == SortMostClicks || s == "" }

// ListFilter selects and orders links for listings. Zero values mean "all".
type ListFilter struct {
	// Query is the search text as typed (see search.go): a slug prefix, or
	// a fragment of the destination, business name or city, ignoring case,
	// accents and punctuation.
	Query string
	// URL is Query as a destination, normalised as creates normalise it,
	// when Query is a full URL; Domain is the host Query names (lowercase
	// ASCII) when it is a domain. The caller sets them: it owns the URL
	// policy. Links with that URL, or on that domain, are listed first.
	URL, Domain string
	LinkType    string
	Active      *bool
	Sort        LinkSort // default SortNewest
	Limit       int      // clamped to 1..500, default 50
	Cursor      *Cursor  // nil: the first page
	// Offset skips rows before the page when there is no Cursor: only for
	// the Shlink-compatible API, whose clients ask for page numbers. Its
	// cost grows with the offset; every other listing pages by Cursor.
	Offset int

	resolved bool       // resolveSearch has run (ListLinksCounted: once for the page and the count)
	mode     searchMode // set by resolveSearch
	hostKey  string     // the reversed host of searchDomain and searchHostText
	norm     string     // the normalised search text of searchText and searchHostText
	// businessIDs are the businesses whose name or city holds norm, when
	// resolveSearch found few (search.go: namedBusinesses); nil otherwise.
	businessIDs []string
	form        textForm  // how the text is written for the plan (search.go)
	arms        searchArm // which arms of a text search's OR the WHERE holds (search.go)
}

// ListedLink is a link as listings show it: the row plus its business name.
type ListedLink struct {
	Link
	BusinessName *string `db:"business_name"`
}

// LinkPage is one page of a listing with the cursors of its neighbours;
// Next is nil on the last page and Prev on the first.
type LinkPage struct {
	Links []ListedLink
	Next  *Cursor
	Prev  *Cursor
	// Total is the listing's count when reading the page told it (a first
	// page that is also the last, or a search whose matches were all read
	// to be sorted), so CountLinks need not read them again; nil otherwise.
	Total *Count
}

// ListLinksCounted is ListLinks with the listing's count: the page's
// Total when reading it told it, else CountLinks; the search (a
// normalisation, business names, URL and domain probes) is resolved once
// for both.
func (s *Store) ListLinksCounted(ctx context.Context, f ListFilter) (LinkPage, Count, error) {
	if err := s.resolveSearch(ctx, &f); err != nil {
		return LinkPage{}, Count{}, err
	}
	page, err := s.ListLinks(ctx, f)
	if err != nil || page.Total != nil {
		var n Count
		if page.Total != nil {
			n = *page.Total
		}
		return page, n, err
	}
	n, err := s.CountLinks(ctx, f)
	return page, n, err
}

// ListLinks returns one page of the links matching f, in f's order. It
// reads at most Limit+1 rows of an index walk (plus those the filter skips),
// however deep the page. In the orders by clicks, which taps change while a
// client walks, the page is read in one snapshot that its cursors carry,
// and a cursor that a flush may have made skip or repeat a link is refused
// with ErrCursorStale (see linkCursorStale).
func (s *Store) ListLinks(ctx context.Context, f ListFilter) (LinkPage, error) {
	f.Sort = cmp.Or(f.Sort, SortNewest)
	if !f.Sort.Valid() {
		return LinkPage{}, fmt.Errorf("store: list links: sort %q: %w", f.Sort, ErrInvalidInput)
	}
	if !f.Sort.byClicks() {
		return s.listLinks(ctx, s.db, f)
	}
	return s.listLinksByClicks(ctx, f)
}

// listLinks reads one page of the listing with q (the page's transaction
// in the clicks orders; search resolution and match counting use the pool).
func (s *Store) listLinks(ctx context.Context, q sqlx.QueryerContext, f ListFilter) (LinkPage, error) {
	limit := clamp(f.Limit, 1, 500, 50)
	if err := s.resolveSearch(ctx, &f); err != nil {
		return LinkPage{}, err
	}
	// The page is cut first (an index walk with LIMIT: short_links' own
	// index by time, link_counters' by clicks) and only its rows are joined
	// to businesses. A text search the store expects to match few rows
	// instead reads them all and sorts them (a materialized CTE, planned
	// without the page's LIMIT); a common one walks (sortsAllMatches).
	columns, source := linkColumns, "short_links"
	if f.Sort.byClicks() {
		columns, source = countedLinkColumns, countedLinks
	}
	sortAll := false
	if f.textSearch() {
		var err error
		if sortAll, err = s.linkSearchSortsAll(ctx, f, source, limit+1); err != nil {
			return LinkPage{}, err
		}
		if !sortAll {
			f.form = textWalked
		}
	}
	before := f.Cursor != nil && f.Cursor.Before
	key, id := f.Sort.keyColumns()
	var cursorKey any
	var cursorID int64
	if f.Cursor != nil {
		var err error
		if cursorKey, cursorID, err = f.Sort.parseCursor(*f.Cursor); err != nil {
			return LinkPage{}, err
		}
	}
	// whereOf is the WHERE of f's rows (search, filters, the cursor), its
	// parameters numbered after args.
	whereOf := func(f ListFilter, args []any) (string, []any) {
		where, args := f.whereAfter(args)
		if f.Cursor != nil {
			// Walking towards the start of the order for a previous page.
			cmp := ">"
			if f.Sort.descending() != before {
				cmp = "<"
			}
			args = append(args, cursorKey, cursorID)
			where = andWhere(where, fmt.Sprintf("(%s, %s) %s ($%d, $%d)", key, id, cmp, len(args)-1, len(args)))
		}
		return where, args
	}
	// A sort in the time orders reads the matches' keys only, and the
	// page's rows whole after the cut (counts included). A search naming
	// businesses reads their links' keys from
	// short_links_business_created_idx alone (00044), and the rest of its
	// OR (the destination, a slug prefix) apart, in a UNION.
	var where, matches string
	var args []any
	switch {
	case sortAll && !f.Sort.byClicks() && f.mode == searchText && f.businessIDs != nil:
		bf, of := f, f
		bf.arms, of.arms = armBusinesses, armOthers
		var bw, ow string
		bw, args = whereOf(bf, nil)
		ow, args = whereOf(of, args)
		matches = `SELECT id, created_at FROM short_links ` + bw + ` UNION SELECT id, created_at FROM short_links ` + ow
	default:
		where, args = whereOf(f, nil)
		matches = `SELECT id, created_at FROM short_links ` + where
	}
	offset, skip := "", 0
	if f.Cursor == nil && f.Offset > 0 {
		args = append(args, f.Offset)
		offset, skip = fmt.Sprintf(" OFFSET $%d", len(args)), f.Offset
	}
	with, from, total := "", source+" "+where, "NULL::bigint"
	switch {
	case sortAll && f.Sort.byClicks():
		with = `WITH matches AS MATERIALIZED (SELECT ` + columns + ` FROM ` + source + ` ` + where + `) `
		from, columns, key, id = "matches", matchedLinkColumns, f.Sort.column(), "id"
	case sortAll:
		with = `WITH matches AS MATERIALIZED (` + matches + `) `
		from = fmt.Sprintf(`(SELECT %s FROM short_links JOIN (SELECT id FROM matches ORDER BY %s LIMIT %d) cut USING (id)) matched`,
			linkColumns, f.Sort.order("created_at", "id", before), skip+limit+1)
		columns, key, id = matchedLinkColumns, "created_at", "id"
	}
	if sortAll && f.Cursor == nil {
		// Every match was read: their number is the listing's total.
		total = "(SELECT count(*) FROM matches)"
	}
	args = append(args, limit+1)
	query := fmt.Sprintf(`%sSELECT p.id, p.slug, p.destination_url, p.link_type, p.business_id, p.site_id,
			p.is_active, p.click_count, p.preview_count, p.created_at, p.updated_at, p.created_by,
			b.name AS business_name, %s AS match_total
		FROM (
			SELECT %s FROM %s ORDER BY %s LIMIT $%d%s
		) p LEFT JOIN businesses b ON b.id = p.business_id::uuid
		ORDER BY %s`, with, total, columns, from, f.Sort.order(key, id, before), len(args), offset,
		f.Sort.order("p."+f.Sort.column(), "p.id", before))
	var read []struct {
		ListedLink
		MatchTotal *int64 `db:"match_total"`
	}
	if err := sqlx.SelectContext(ctx, q, &read, query, args...); err != nil {
		return LinkPage{}, fmt.Errorf("store: list links: %w", classify(err))
	}
	rows := make([]ListedLink, len(read))
	for i, r := range read {
		rows[i] = r.ListedLink
	}
	var page LinkPage
	page.Links, page.Prev, page.Next = keysetPage(rows, limit, f.Cursor, func(l ListedLink, before bool) Cursor {
		return f.Sort.cursor(l.Link, before)
	})
	switch {
	case len(read) > 0 && read[0].MatchTotal != nil:
		page.Total = &Count{N: *read[0].MatchTotal}
	case f.Cursor == nil && f.Offset == 0 && page.Next == nil:
		page.Total = &Count{N: int64(len(page.Links))}
	}
	return page, nil
}

// linkSearchSortsAll is sortsAllMatches for a link listing's text search
// (from source, reading page rows a page).
func (s *Store) linkSearchSortsAll(ctx context.Context, f ListFilter, source string, page int) (bool, error) {
	ef := f
	ef.form = textEstimated
	matches, matchArgs := ef.where()
	af := f
	af.mode = searchNone
	all, allArgs := af.where()
	walkCost := float64(walkRowsPerSortRow)
	switch {
	case f.Sort.byClicks():
		walkCost = walkRowsPerSortRowByClicks
	case f.mode == searchText && f.businessIDs != nil:
		walkCost = walkRowsPerSortRowByBusiness
	}
	return s.sortsAllMatches(ctx, `SELECT 1 FROM `+source+` `+matches, matchArgs,
		`SELECT 1 FROM `+source+` `+all, allArgs, page, sortLinkMatchesUpTo, walkCost)
}

// matchedLinkColumns are a Link's columns read back from the matches CTE,
// which selected linkColumns or countedLinkColumns.
const matchedLinkColumns = `id, slug, destination_url, link_type, business_id, site_id, is_active,
	click_count, preview_count, created_at, updated_at, created_by`

// cursor marks l in this order; before marks a page ending just before it.
func (s LinkSort) cursor(l Link, before bool) Cursor {
	key := strconv.FormatInt(l.ClickCount, 10)
	if s.column() == "created_at" {
		key = strconv.FormatInt(l.CreatedAt.UnixMicro(), 10)
	}
	return Cursor{Order: string(s), Before: before, Key: key, ID: strconv.FormatInt(l.ID, 10)}
}

// parseCursor checks that c belongs to this order and returns its key (as
// the column's type) and id.
func (s LinkSort) parseCursor(c Cursor) (any, int64, error) {
	id, err := strconv.ParseInt(c.ID, 10, 64)
	if c.Order != string(s) || err != nil {
		return nil, 0, fmt.Errorf("store: cursor of another listing: %w", ErrInvalidInput)
	}
	key, err := strconv.ParseInt(c.Key, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("store: cursor key: %w", ErrInvalidInput)
	}
	if s.column() == "created_at" {
		// Microseconds, PostgreSQL's precision: the cursor row compares equal.
		return time.UnixMicro(key).UTC(), id, nil
	}
	return key, id, nil
}

// CountLinks counts the links matching f exactly up to exactCountLimit and
// estimates past it, so a total costs at most that many rows read.
func (s *Store) CountLinks(ctx context.Context, f ListFilter) (Count, error) {
	if err := s.resolveSearch(ctx, &f); err != nil {
		return Count{}, err
	}
	where, args := f.where()
	if !f.textSearch() {
		return s.boundedCount(ctx, `SELECT 1 FROM short_links `+where, args)
	}
	// Estimated from the text as one pattern (see sortsAllMatches), counted
	// through the trigram index.
	ef := f
	ef.form = textEstimated
	estimate, estimateArgs := ef.where()
	return s.boundedCountEstimated(ctx, `SELECT 1 FROM short_links `+estimate, estimateArgs, `SELECT 1 FROM short_links `+where, args, trustTextEstimateAbove)
}

// boundedCount counts the rows of query (a SELECT of matching rows): the
// planner's estimate when it is far past exactCountLimit (so a common word
// or no filter at all costs planning only), else an exact count that stops
// after exactCountLimit+1 rows (past which the estimate is shown).
func (s *Store) boundedCount(ctx context.Context, query string, args []any) (Count, error) {
	return s.boundedCountEstimated(ctx, query, args, query, args, trustEstimateAbove)
}

// boundedCountEstimated is boundedCount with the estimate planned from
// another query selecting the same rows (written for the planner's best
// estimate rather than for an index), trusted above trustAbove.
func (s *Store) boundedCountEstimated(ctx context.Context, estimateQuery string, estimateArgs []any, query string, args []any, trustAbove int64) (Count, error) {
	estimate, err := s.estimateRows(ctx, estimateQuery, estimateArgs)
	if err != nil {
		return Count{}, err
	}
	if estimate > trustAbove {
		return Count{N: estimate, Estimated: true}, nil
	}
	var n int64
	err = s.db.GetContext(ctx, &n, `SELECT count(*) FROM (`+query+` LIMIT `+strconv.Itoa(exactCountLimit+1)+`) t`, args...)
	if err != nil {
		return Count{}, fmt.Errorf("store: count: %w", classify(err))
	}
	if n <= exactCountLimit {
		return Count{N: n}, nil
	}
	// Never below what was just counted.
	return Count{N: max(estimate, exactCountLimit+1), Estimated: true}, nil
}

// trustEstimateAbove is where the planner's estimate is taken as the total
// without counting: statistics are off by a factor, not by fifty.
const trustEstimateAbove = 50 * exactCountLimit

// trustTextEstimateAbove is trustEstimateAbove for a text search estimated
// as one pattern (textEstimated), which the column's histogram judges within
// a third or so (1M links: "bakery" 19,019 for 24,908, "sao paulo" 18,018
// for 23,699, "offers spring" 48,048 for 44,700). Counting is a walk of the
// trigram index's bitmap, whose posting lists grow with the word's links
// (24,908: 80 ms on the loaded machine), so past ten thousand the estimate
// is shown.
const trustTextEstimateAbove = 10 * exactCountLimit

// estimateRows is the planner's row estimate for query; EXPLAIN plans it
// without running it.
func (s *Store) estimateRows(ctx context.Context, query string, args []any) (int64, error) {
	var plan []byte
	if err := s.db.GetContext(ctx, &plan, `EXPLAIN (FORMAT JSON) `+query, args...); err != nil {
		return 0, fmt.Errorf("store: estimate count: %w", classify(err))
	}
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &out); err != nil || len(out) == 0 {
		return 0, fmt.Errorf("store: estimate count: unexpected plan: %w", err)
	}
	return int64(out[0].Plan.Rows), nil
}

// EachLink calls fn for every link matching f, in f's order, ignoring
// Limit and Cursor; the links carry what an export shows (no business or
// site id, no updated_at). It is one statement, so an export is one consistent
// snapshot even while links are created or clicked; rows stream from the
// server rather than being held in memory. An error from fn stops the walk.
func (s *Store) EachLink(ctx context.Context, f ListFilter, fn func(ListedLink) error) error {
	f.Sort = cmp.Or(f.Sort, SortNewest)
	if !f.Sort.Valid() {
		return fmt.Errorf("store: export links: sort %q: %w", f.Sort, ErrInvalidInput)
	}
	if err := s.resolveSearch(ctx, &f); err != nil {
		return err
	}
	// One read-only transaction whose statement may run for exportTimeout:
	// the pool's serving timeout would cut a large export (or a slow
	// client, since the timer runs while rows wait to be sent) short.
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: export links: %w", classify(err))
	}
	defer tx.Rollback()
	// JIT off: the plan is a plain index walk with a subquery per row,
	// which compiling does not speed up, and at millions of rows the cost
	// estimate would buy the most expensive compilation (measured: +250 ms
	// on 100k rows).
	if _, err := tx.ExecContext(ctx, `SELECT set_config('statement_timeout', $1, true), set_config('jit', 'off', true)`, strconv.FormatInt(exportTimeout.Milliseconds(), 10)); err != nil {
		return fmt.Errorf("store: export links: %w", classify(err))
	}
	where, args := f.where()
	// Only the columns an export shows. The business name is a correlated
	// subquery, not a join: rows then stream in index order with no sort of
	// the whole table. Scanned by position, not by reflection: an export
	// is millions of rows.
	key, id := f.Sort.keyColumns()
	rows, err := tx.QueryContext(ctx, `SELECT short_links.id, slug, destination_url, link_type, is_active,
			lc.click_count, lc.preview_count, created_at,
			(SELECT name FROM businesses b WHERE b.id = short_links.business_id) AS business_name
		FROM `+countedLinks+` `+where+` ORDER BY `+f.Sort.order(key, id, false), args...)
	if err != nil {
		return fmt.Errorf("store: export links: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var l ListedLink
		if err := rows.Scan(&l.ID, &l.Slug, &l.DestinationURL, &l.LinkType, &l.IsActive, &l.ClickCount,
			&l.PreviewCount, &l.CreatedAt, &l.BusinessName); err != nil {
			return fmt.Errorf("store: export links: %w", classify(err))
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: export links: %w", classify(err))
	}
	return nil
}

// exportTimeout bounds one export's query; see EachLink.
const exportTimeout = 10 * time.Minute

// order is the ORDER BY list of the sort key and id columns; id breaks
// ties so pages never overlap. reverse walks the order backwards (a
// previous page).
func (s LinkSort) order(key, id string, reverse bool) string {
	dir := " ASC"
	if s.descending() != reverse {
		dir = " DESC"
	}
	return key + dir + ", " + id + dir
}

// where builds the WHERE clause; every user value travels as a parameter.
// The search's condition comes from its mode (resolveSearch, search.go).
func (f ListFilter) where() (string, []any) { return f.whereAfter(nil) }

// whereAfter is where with its parameters numbered after args.
func (f ListFilter) whereAfter(args []any) (string, []any) {
	where, args := f.searchWhere("", args)
	if f.LinkType != "" {
		args = append(args, f.LinkType)
		where = andWhere(where, fmt.Sprintf("link_type = $%d", len(args)))
	}
	if f.Active != nil {
		// A literal, not a parameter, so the planner can match the partial
		// indexes on inactive links.
		where = andWhere(where, map[bool]string{true: "is_active", false: "NOT is_active"}[*f.Active])
	}
	return where, args
}

// andWhere adds cond to a WHERE clause (empty or "WHERE …").
func andWhere(where, cond string) string {
	if where == "" {
		return "WHERE " + cond
	}
	return where + " AND " + cond
}

// escapeLike makes user text match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func clamp(v, lo, hi, def int) int {
	if v == 0 {
		return def
	}
	return min(max(v, lo), hi)
}
