package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"
)

// CampaignFilter selects businesses for the campaign listing.
type CampaignFilter struct {
	Query  string  // a fragment of the name or the city, ignoring case, accents and punctuation
	Status string  // one of OutreachStatuses; "" for any
	Limit  int     // clamped to 1..500, default 25
	Cursor *Cursor // nil: the first page
}

// CampaignBusiness is a business ready for outreach with the state of its
// site's active site_preview link.
type CampaignBusiness struct {
	Business
	LinkSlug   *string `db:"link_slug"` // nil when no active link exists yet
	ClickCount int64   `db:"click_count"`
}

// CampaignPage is one page of the listing with the cursors of its
// neighbours (nil at either end).
type CampaignPage struct {
	Businesses []CampaignBusiness
	Next       *Cursor
	Prev       *Cursor
}

// campaignOrder is the cursor order of the campaign listing: by name, id
// breaking ties.
const campaignOrder = "name"

// ListCampaignBusinesses returns one page of the businesses ready for
// outreach, by name. The page is a keyset walk of businesses_status_name_search_idx
// (at most Limit+1 rows, plus those a search skips); only its rows are then
// joined to their site and link, so per-business figures (totals over a
// business's links, say) can be added as more joins on the page's rows.
func (s *Store) ListCampaignBusinesses(ctx context.Context, f CampaignFilter) (CampaignPage, error) {
	limit := clamp(f.Limit, 1, 500, 25)
	norm, err := s.campaignSearch(ctx, f)
	if err != nil {
		return CampaignPage{}, err
	}
	before := f.Cursor != nil && f.Cursor.Before
	if f.Cursor != nil && (f.Cursor.Order != campaignOrder || !IsUUID(f.Cursor.ID)) {
		return CampaignPage{}, fmt.Errorf("store: cursor of another listing: %w", ErrInvalidInput)
	}
	// where is f's condition with the search in form, and the cursor's.
	where := func(f CampaignFilter, norm string, form textForm) (string, []any) {
		where, args := f.where(norm, form)
		if f.Cursor != nil {
			cmp := ">"
			if before {
				cmp = "<"
			}
			args = append(args, f.Cursor.Key, f.Cursor.ID)
			where += fmt.Sprintf(" AND (b.name, b.id) %s ($%d, $%d::uuid)", cmp, len(args)-1, len(args))
		}
		return where, args
	}
	dir := "ASC"
	if before {
		dir = "DESC"
	}
	// read runs the page's query over the businesses of from (with the
	// CTE with before it).
	read := func(with, from string, args []any) ([]CampaignBusiness, error) {
		args = append(args, limit+1, LinkTypeSitePreview)
		// The link is found the way GetOrCreateLink finds it (hash, exact URL,
		// type, active), so the listing and the preview agree on "a link
		// exists"; the partial unique index guarantees at most one match, so the
		// join never duplicates a business.
		var rows []CampaignBusiness
		err := s.db.SelectContext(ctx, &rows, fmt.Sprintf(`%sSELECT `+businessColumns+`,
				l.slug AS link_slug, COALESCE(lc.click_count, 0) AS click_count
			FROM (SELECT b.id, b.name, b.city, b.phone, b.status, b.external_id, b.opted_out_at, b.created_at
			      FROM %s ORDER BY b.name %s, b.id %s LIMIT $%d) b
			LEFT JOIN LATERAL (SELECT id, url FROM sites WHERE business_id = b.id
			                   ORDER BY created_at, id LIMIT 1) s ON true
			`+outreachJoin+`
			LEFT JOIN short_links l
			       ON l.destination_hash = short_links_url_hash(s.url) AND l.destination_url = s.url
			      AND l.link_type = $%d AND l.is_active
			LEFT JOIN link_counters lc ON lc.link_id = l.id
			ORDER BY b.name %s, b.id %s`, with, from, dir, dir, len(args)-1, len(args), dir, dir), args...)
		if err != nil {
			return nil, fmt.Errorf("store: list campaign businesses: %w", classify(err))
		}
		return rows, nil
	}
	var rows []CampaignBusiness
	if norm == "" {
		w, args := where(f, norm, textIndexed)
		if rows, err = read("", "businesses b "+w, args); err != nil {
			return CampaignPage{}, err
		}
	} else if rows, err = s.searchCampaignBusinesses(ctx, f, norm, limit, dir, where, read); err != nil {
		return CampaignPage{}, err
	}
	var page CampaignPage
	page.Businesses, page.Prev, page.Next = keysetPage(rows, limit, f.Cursor, func(b CampaignBusiness, before bool) Cursor {
		return Cursor{Order: campaignOrder, Before: before, Key: b.Name, ID: b.ID}
	})
	return page, nil
}

// campaignWalkFirst is how many businesses, in name order, a campaign
// search reads before it gives up on walking (see searchCampaignBusinesses).
const campaignWalkFirst = 10_000

// searchCampaignBusinesses reads a page of the campaign listing searched
// for norm. Names cluster by first word ("rosas" matches a block of names
// that sort late), trades come in a block within each first word ("Ana's
// Café …" starts some 4,000 names in), and cities spread evenly. So a
// search whose estimate says it matches at least a page in every
// campaignWalkFirst businesses first walks that many in name order,
// filtering, through the index alone (businesses_status_name_search_idx
// holds search_text: 00040): when they hold a full page, those are the
// page (their first matches are the listing's), and only the page's rows
// are read from the table. At 1M businesses a walk of 2,000 rows costs
// about 1 ms, of 10,000 about 4 (on the heap, 2,000 cost 2-3 ms); "cafe"
// (44,000 matches, 4,000 rows in) took 75-85 ms to sort; a city's 22,000
// matches ("sao paulo") 49 ms to sort and 1.3 ms to walk. Otherwise, and
// for rarer searches, the store picks between sorting every match and
// walking the whole order (sortsAllMatches).
func (s *Store) searchCampaignBusinesses(ctx context.Context, f CampaignFilter, norm string, limit int, dir string,
	where func(CampaignFilter, string, textForm) (string, []any),
	read func(with, from string, args []any) ([]CampaignBusiness, error)) ([]CampaignBusiness, error) {
	unsearched := f
	unsearched.Query = ""
	estimate, estimateArgs := f.where(norm, textEstimated)
	all, allArgs := unsearched.where("", textIndexed)
	m, err := s.estimateRows(ctx, `SELECT 1 FROM businesses b `+estimate, estimateArgs)
	if err != nil {
		return nil, err
	}
	n, err := s.estimateRows(ctx, `SELECT 1 FROM businesses b `+all, allArgs)
	if err != nil {
		return nil, err
	}
	if !s.walkSearches && float64(m)*campaignWalkFirst >= float64(limit+1)*float64(n) {
		w, args := where(unsearched, "", textIndexed)
		args = append(args, norm)
		// The walk reads (name, id, search_text) from the index alone and
		// stops at a page of matches; the table is read for those only.
		from := fmt.Sprintf(`(SELECT m.id FROM (SELECT b.id, b.name, b.search_text FROM businesses b %s
			      ORDER BY b.name %s, b.id %s LIMIT %d) m
			WHERE strpos(m.search_text, $%d) > 0 ORDER BY m.name %s, m.id %s LIMIT %d) m
			JOIN businesses b ON b.id = m.id`, w, dir, dir, campaignWalkFirst, len(args), dir, dir, limit+1)
		rows, err := read("", from, args)
		if err != nil || len(rows) > limit {
			return rows, err
		}
	}
	sortAll := !s.walkSearches && sortBeatsWalk(m, n, limit+1, sortBusinessMatchesUpTo, walkRowsPerSortRow)
	if !sortAll {
		w, args := where(f, norm, textWalked)
		return read("", "businesses b "+w, args)
	}
	// Every match, sorted: in two exact parts, each sorted by the server
	// and cut to a page, then the page of their union. Names cluster by
	// first word, so a common first word ("rosas": 22,000 names sorting
	// near the end, which every walk misses) is nearly all the first part,
	// read from businesses_search_prefix_idx without the table; only the
	// second part's matches are read from the table (00041).
	var ids []string
	for _, form := range []textForm{textStartsWith, textFurtherIn} {
		w, args := where(f, norm, form)
		var part []string
		err := s.db.SelectContext(ctx, &part, fmt.Sprintf(`WITH matches AS MATERIALIZED (SELECT b.id, b.name FROM businesses b %s)
			SELECT id::text FROM matches ORDER BY name %s, id %s LIMIT %d`, w, dir, dir, limit+1), args...)
		if err != nil {
			return nil, fmt.Errorf("store: search campaign businesses: %w", classify(err))
		}
		ids = append(ids, part...)
	}
	return read("", "(SELECT b.* FROM businesses b WHERE b.id = ANY($1::uuid[])) b", []any{pq.Array(ids)})
}

// CountCampaignBusinesses counts the businesses f matches, exactly up to
// exactCountLimit and estimated past it.
func (s *Store) CountCampaignBusinesses(ctx context.Context, f CampaignFilter) (Count, error) {
	norm, err := s.campaignSearch(ctx, f)
	if err != nil {
		return Count{}, err
	}
	where, args := f.where(norm, textIndexed)
	estimate, estimateArgs := f.where(norm, textEstimated)
	return s.boundedCountEstimated(ctx, `SELECT 1 FROM businesses b `+estimate, estimateArgs, `SELECT 1 FROM businesses b `+where, args, trustTextEstimateAbove)
}

// where selects ready businesses, searched by name or city normalised
// (search.go) through the trigram index businesses_search_text_idx; a
// common word walks businesses_status_name_search_idx instead. norm is the
// search normalised (campaignSearch), written in form (textForm).
func (f CampaignFilter) where(norm string, form textForm) (string, []any) {
	args := []any{StatusReadyForOutreach}
	where := "WHERE b.status = $1"
	switch {
	case strings.TrimSpace(f.Query) == "":
	case norm == "": // punctuation alone
		where += " AND false"
	default:
		where += " AND " + containsText("b.search_text", norm, form, func(v any) string {
			args = append(args, v)
			return fmt.Sprintf("$%d", len(args))
		})
	}
	if cond, ok := outreachWhere[f.Status]; ok {
		where += " AND " + cond // a fixed condition, chosen by the status
	}
	return where, args
}

// campaignSearch normalises f's search (see where).
func (s *Store) campaignSearch(ctx context.Context, f CampaignFilter) (string, error) {
	if strings.TrimSpace(f.Query) == "" {
		return "", nil
	}
	return s.normalizeSearch(ctx, "search_normalize", f.Query)
}

// IsUUID reports whether s is a canonical textual UUID (8-4-4-4-12 hex): the
// one check for IDs in URLs and bodies, and for cursors, so a forged one is
// refused before it reaches a ::uuid cast.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
			return false
		}
	}
	return true
}
