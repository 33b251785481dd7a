package db

import (
	"context"
	"fmt"
	"strings"
)

// ListFilter selects and orders links for listings. Zero values mean "all".
type ListFilter struct {
	Query    string // substring of slug or destination
	LinkType string
	Active   *bool
	Sort     string // "created" (default, newest first) or "clicks"
	Limit    int    // clamped to 1..500, default 50
	Offset   int
}

// LinkPage is one page of a listing plus the total matching the filter.
type LinkPage struct {
	Links []Link
	Total int
}

// ListLinks returns the links matching f, newest (or most clicked) first.
func (s *Store) ListLinks(ctx context.Context, f ListFilter) (LinkPage, error) {
	where, args := f.where()
	order := "created_at DESC, id DESC"
	if f.Sort == "clicks" {
		order = "click_count DESC, id DESC"
	}
	args = append(args, clamp(f.Limit, 1, 500, 50), max(f.Offset, 0))
	// COUNT(*) OVER () returns the filter's total with the page in one query.
	q := fmt.Sprintf(`SELECT %s, COUNT(*) OVER () AS total FROM short_links %s
		ORDER BY %s LIMIT $%d OFFSET $%d`, linkColumns, where, order, len(args)-1, len(args))
	var rows []struct {
		Link
		Total int `db:"total"`
	}
	if err := s.db.SelectContext(ctx, &rows, q, args...); err != nil {
		return LinkPage{}, fmt.Errorf("store: list links: %w", classify(err))
	}
	page := LinkPage{Links: make([]Link, 0, len(rows))}
	for _, r := range rows {
		page.Links = append(page.Links, r.Link)
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

func (s *Store) countLinks(ctx context.Context, f ListFilter) (int, error) {
	where, args := f.where()
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM short_links `+where, args...); err != nil {
		return 0, fmt.Errorf("store: count links: %w", classify(err))
	}
	return n, nil
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
