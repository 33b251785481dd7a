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

// LinkSorts lists every order, the default first.
var LinkSorts = []LinkSort{SortNewest, SortOldest, SortMostClicks, SortFewestClicks}

// Valid reports whether s names an order.
func (s LinkSort) Valid() bool { return slices.Contains(LinkSorts, s) }

// column is the sort key; id breaks ties.
func (s LinkSort) column() string {
	if s == SortMostClicks || s == SortFewestClicks {
		return "click_count"
	}
	return "created_at"
}

func (s LinkSort) descending() bool { return s == SortNewest || s == SortMostClicks || s == "" }

// ListFilter selects and orders links for listings. Zero values mean "all".
type ListFilter struct {
	Query    string // substring of slug or destination
	LinkType string
	Active   *bool
	Sort     LinkSort // default SortNewest
	Limit    int      // clamped to 1..500, default 50
	Cursor   *Cursor  // nil: the first page
	// Offset skips rows before the page when there is no Cursor: only for
	// the Shlink-compatible API, whose clients ask for page numbers. Its
	// cost grows with the offset; every other listing pages by Cursor.
	Offset int
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
}

// ListLinks returns one page of the links matching f, in f's order. It
// reads at most Limit+1 rows of an index walk (plus those the filter skips),
// however deep the page.
func (s *Store) ListLinks(ctx context.Context, f ListFilter) (LinkPage, error) {
	f.Sort = cmp.Or(f.Sort, SortNewest)
	if !f.Sort.Valid() {
		return LinkPage{}, fmt.Errorf("store: list links: sort %q: %w", f.Sort, ErrInvalidInput)
	}
	limit := clamp(f.Limit, 1, 500, 50)
	where, args := f.where()
	before := f.Cursor != nil && f.Cursor.Before
	if f.Cursor != nil {
		key, id, err := f.Sort.parseCursor(*f.Cursor)
		if err != nil {
			return LinkPage{}, err
		}
		// Walking towards the start of the order for a previous page.
		cmp := ">"
		if f.Sort.descending() != before {
			cmp = "<"
		}
		args = append(args, key, id)
		where = andWhere(where, fmt.Sprintf("(%s, id) %s ($%d, $%d)", f.Sort.column(), cmp, len(args)-1, len(args)))
	}
	offset := ""
	if f.Cursor == nil && f.Offset > 0 {
		args = append(args, f.Offset)
		offset = fmt.Sprintf(" OFFSET $%d", len(args))
	}
	args = append(args, limit+1)
	// The page is cut first (an index walk with LIMIT) and only its rows are
	// joined to businesses.
	q := fmt.Sprintf(`SELECT p.id, p.slug, p.destination_url, p.link_type, p.business_id, p.site_id,
			p.is_active, p.click_count, p.preview_count, p.created_at, p.updated_at, p.created_by,
			b.name AS business_name
		FROM (
			SELECT %s FROM short_links %s ORDER BY %s LIMIT $%d%s
		) p LEFT JOIN businesses b ON b.id = p.business_id::uuid
		ORDER BY %s`, linkColumns, where, f.Sort.order("", before), len(args), offset, f.Sort.order("p.", before))
	var rows []ListedLink
	if err := s.db.SelectContext(ctx, &rows, q, args...); err != nil {
		return LinkPage{}, fmt.Errorf("store: list links: %w", classify(err))
	}
	var page LinkPage
	page.Links, page.Prev, page.Next = keysetPage(rows, limit, f.Cursor, func(l ListedLink, before bool) Cursor {
		return f.Sort.cursor(l.Link, before)
	})
	return page, nil
}

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
	where, args := f.where()
	return s.boundedCount(ctx, `SELECT 1 FROM short_links `+where, args)
}

// boundedCount counts the rows of query (a SELECT of matching rows): the
// planner's estimate when it is far past exactCountLimit (so a common word
// or no filter at all costs planning only), else an exact count that stops
// after exactCountLimit+1 rows (past which the estimate is shown).
func (s *Store) boundedCount(ctx context.Context, query string, args []any) (Count, error) {
	estimate, err := s.estimateRows(ctx, query, args)
	if err != nil {
		return Count{}, err
	}
	if estimate > trustEstimateAbove {
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
	rows, err := tx.QueryContext(ctx, `SELECT id, slug, destination_url, link_type, is_active, click_count, preview_count, created_at,
			(SELECT name FROM businesses b WHERE b.id = short_links.business_id) AS business_name
		FROM short_links `+where+` ORDER BY `+f.Sort.order("", false), args...)
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

// order is the ORDER BY list, its columns qualified by prefix; id breaks
// ties so pages never overlap. reverse walks the order backwards (a
// previous page).
func (s LinkSort) order(prefix string, reverse bool) string {
	dir := " ASC"
	if s.descending() != reverse {
		dir = " DESC"
	}
	return prefix + s.column() + dir + ", " + prefix + "id" + dir
}

// where builds the WHERE clause; every user value travels as a parameter.
func (f ListFilter) where() (string, []any) {
	var where string
	var args []any
	if q := strings.TrimSpace(f.Query); q != "" {
		// ILIKE '%…%' is served by the trigram index short_links_search_idx.
		args = append(args, "%"+escapeLike(q)+"%")
		where = andWhere(where, fmt.Sprintf("(slug ILIKE $%d OR destination_url ILIKE $%d)", len(args), len(args)))
	}
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
