package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ListFilter selects and orders links for listings. Zero values mean "all".
type ListFilter struct {
	Query     string // substring of slug or destination
	LinkType  string
	Active    *bool
	Sort      string // "created" (default) or "clicks"
	Ascending bool   // oldest or least clicked first; default newest or most
	Limit     int    // clamped to 1..500, default 50
	Offset    int
}

// ListedLink is a link as listings show it: the row plus its business name.
type ListedLink struct {
	Link
	BusinessName *string `db:"business_name"`
}

// LinkPage is one page of a listing plus the total matching the filter.
type LinkPage struct {
	Links []ListedLink
	Total int
}

// ListLinks returns one page of the links matching f, in f's order.
func (s *Store) ListLinks(ctx context.Context, f ListFilter) (LinkPage, error) {
	where, args := f.where()
	args = append(args, clamp(f.Limit, 1, 500, 50), max(f.Offset, 0))
	// The page is cut first and only its rows are joined to businesses;
	// COUNT(*) OVER () returns the filter's total with the page in one query.
	q := fmt.Sprintf(`SELECT p.id, p.slug, p.destination_url, p.link_type, p.business_id, p.site_id,
			p.is_active, p.click_count, p.preview_count, p.created_at, p.updated_at, p.total,
			b.name AS business_name
		FROM (
			SELECT %s, COUNT(*) OVER () AS total FROM short_links %s
			ORDER BY %s LIMIT $%d OFFSET $%d
		) p LEFT JOIN businesses b ON b.id = p.business_id::uuid
		ORDER BY %s`, linkColumns, where, f.order(""), len(args)-1, len(args), f.order("p."))
	var rows []struct {
		ListedLink
		Total int `db:"total"`
	}
	if err := s.db.SelectContext(ctx, &rows, q, args...); err != nil {
		return LinkPage{}, fmt.Errorf("store: list links: %w", classify(err))
	}
	page := LinkPage{Links: make([]ListedLink, 0, len(rows))}
	for _, r := range rows {
		page.Links = append(page.Links, r.ListedLink)
		page.Total = r.Total
	}
	if len(rows) == 0 && f.Offset > 0 {
		// Past the last page the window function has no row to report on.
		total, err := s.countLinks(ctx, f)
		if err != nil {
			return LinkPage{}, err
		}
		page.Total = total
	}
	return page, nil
}

// EachLink calls fn for every link matching f, in f's order, ignoring
// Limit and Offset. It is one statement, so an export is one consistent
// snapshot even while links are created or clicked; rows stream from the
// server rather than being held in memory. An error from fn stops the walk.
func (s *Store) EachLink(ctx context.Context, f ListFilter, fn func(ListedLink) error) error {
	// One read-only transaction whose statement may run for exportTimeout:
	// the pool's serving timeout would cut a large export (or a slow
	// client, since the timer runs while rows wait to be sent) short.
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: export links: %w", classify(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT set_config('statement_timeout', $1, true)`, strconv.FormatInt(exportTimeout.Milliseconds(), 10)); err != nil {
		return fmt.Errorf("store: export links: %w", classify(err))
	}
	where, args := f.where()
	rows, err := tx.QueryxContext(ctx, `SELECT `+linkColumns+`,
			(SELECT name FROM businesses b WHERE b.id = short_links.business_id) AS business_name
		FROM short_links `+where+` ORDER BY `+f.order(""), args...)
	if err != nil {
		return fmt.Errorf("store: export links: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var l ListedLink
		if err := rows.StructScan(&l); err != nil {
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

func (s *Store) countLinks(ctx context.Context, f ListFilter) (int, error) {
	where, args := f.where()
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM short_links `+where, args...); err != nil {
		return 0, fmt.Errorf("store: count links: %w", classify(err))
	}
	return n, nil
}

// order is the ORDER BY list, its columns qualified by prefix; id breaks
// ties so pages never overlap.
func (f ListFilter) order(prefix string) string {
	dir := " DESC"
	if f.Ascending {
		dir = " ASC"
	}
	key := "created_at"
	if f.Sort == "clicks" {
		key = "click_count"
	}
	return prefix + key + dir + ", " + prefix + "id" + dir
}

// where builds the WHERE clause; every value travels as a parameter.
func (f ListFilter) where() (string, []any) {
	var conds []string
	var args []any
	if q := strings.TrimSpace(f.Query); q != "" {
		args = append(args, "%"+escapeLike(q)+"%")
		conds = append(conds, fmt.Sprintf("(slug ILIKE $%d OR destination_url ILIKE $%d)", len(args), len(args)))
	}
	if f.LinkType != "" {
		args = append(args, f.LinkType)
		conds = append(conds, fmt.Sprintf("link_type = $%d", len(args)))
	}
	if f.Active != nil {
		args = append(args, *f.Active)
		conds = append(conds, fmt.Sprintf("is_active = $%d", len(args)))
	}
	if len(conds) == 0 {
		return "", args
	}
	return "WHERE " + strings.Join(conds, " AND "), args
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
