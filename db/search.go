package db

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lib/pq"
)

// How q= searches the link listings, each shape through its own index
// (migrations 00022–00024), so no search reads the rows of every URL that
// shares "https://www.", a domain or a common word with it:
//
//   - a full URL (ListFilter.URL, normalised as creates normalise it) is
//     first looked up exactly, by destination hash; when no link has it,
//     the links on its host whose text contains it are listed;
//   - a domain (ListFilter.Domain) lists the links on it and its
//     subdomains, through the reversed-host index short_links_host_idx;
//   - anything else, and a URL or domain no link is on, matches a slug
//     prefix (short_links_slug_prefix_idx) or a fragment of the normalised
//     destination, business name or city (short_links_search_text_idx, a
//     trigram index, when the store expects the fragment to be rare; a
//     common one walks the listing's order instead, stopping after a page:
//     sortsAllMatches).
//
// A text that names a few businesses (a business name: common words in a
// rare combination) is resolved against businesses first, as the campaign
// search does (businesses_search_text_idx, one row a business), and its
// links are those businesses' links (short_links_business_created_idx) or links
// whose destination holds the text (short_links_search_url_idx, the
// destination part of search_text alone): the same links as the whole
// text's match, since a link's text is its destination, its business's
// name and its city, and the business's text is that name and city. The
// whole text's trigram index would intersect the posting lists of every
// link of every business with one of the name's words (10M links, "rosas
// bakery express": 180–330 ms for 135 links; this way about 30 ms). See
// namedBusinesses.
//
// Normalised means search_normalize (00022): case, accents and
// punctuation ignored, so "rosas" finds "Rosa's Bakery" and "cafe" finds
// "Café Luna". It runs in PostgreSQL on both sides, the stored text and
// the search text, so the two never disagree about a letter. The search
// text is normalised by a statement of its own and then travels as plain
// patterns (containsText): the planner estimates them from their values,
// and no row calls the function (inside the listing's WHERE, it ran once
// per row checked).

// How a text search is planned: its matches read whole through the
// trigram index and sorted, or the listing's order walked until a page is
// full. The planner weighs the two as if the search's words were
// independent ("offers spring" as rare as "offers" times "spring", when
// every link with one has the other) and matches spread evenly through the
// order; both are often false, and a wrong pick costs the whole difference
// (at 200k links, "offers/spring" sorted 10,000 matches: 257 ms). So the
// store picks, from two planner estimates (EXPLAIN: planning only): the
// matches, estimated from the whole text as one pattern (the column's
// histogram, statistics target 1,000, judges it as typed, words together),
// and the rows the listing walks without the search. A walk reads about
// page × rows ÷ matches rows, a sort the matches, each costing
// walkRowsPerSortRow walked rows: the sort is chosen while
// walkRowsPerSortRow × matches² ≤ page × rows (about 5,600 matches at 10M
// links and a page of 51, 1,800 at 1M), and always up to the floor. Each
// plan is then written so the planner cannot take the other (textForm).
//
// The floors: most matches always sorted whatever the walk's estimate.
// Matches cluster in the order more than the estimate assumes (links of
// one campaign were created together; a campaign search for "zoes"
// matches names that all sort at the end, so a walk by name read 17,570
// of 18,000 businesses before its first match, 139 ms), and sorting a few
// thousand rows costs tens of milliseconds at most. Businesses are small
// rows and their names cluster by first word, so their floor is higher.
const (
	sortLinkMatchesUpTo = 2_000
	// namedBusinessesUpTo is how many businesses a text may name for the
	// listing to find their links by business (each a probe of
	// short_links_business_created_idx, read without the table: 627
	// businesses' 6,270 links in 15 ms at 10M); namedBusinessesEstimatedUpTo is the
	// planner's estimate past which they are not even looked up (a common
	// word: "bakery" names tens of thousands), so such a search pays one
	// EXPLAIN.
	namedBusinessesUpTo          = 1_000
	namedBusinessesEstimatedUpTo = 2_000
	sortBusinessMatchesUpTo      = 50_000
	// walkRowsPerSortRow is how many rows a walk reads for the cost of one
	// a sort reads: a walk reads the order's index and the heap in order
	// (rows created together sit together) and checks each with strpos
	// (measured at 1M links: 2,100 rows in 0.6 ms); a sort builds a bitmap
	// from the trigram index's posting lists, reads each match's page,
	// rechecks it and sorts (24,908 matches of "bakery": 80 ms for the
	// bitmap alone, on the loaded machine).
	walkRowsPerSortRow = 16
	// walkRowsPerSortRowByClicks is the same for the orders by clicks,
	// whose walk reads link_counters' index and probes each link by id
	// (about 4 buffers a row: 823 rows, 3,299 buffers for "cafe" at 1M),
	// as a sort's join to link_counters does for each match.
	walkRowsPerSortRowByClicks = 1
	// walkRowsPerSortRowByBusiness is the same for a search naming
	// businesses in the time orders, whose sort reads the businesses' links'
	// keys without the table (short_links_business_created_idx): at 10M
	// links, "rosas bakery" (627 businesses, 6,270 links) read them in 15
	// ms, 2.4 µs a match, where its walk read 81,000 rows in 36 ms, 0.45
	// µs a row.
	walkRowsPerSortRowByBusiness = 5
)

// sortsAllMatches reports whether a listing's search should read all its
// matches through the search's index and sort them (true), or walk the
// listing's order (an index on the sort key) until a page is full.
// matches selects the matching rows, its text written as textEstimated;
// all the rows the listing walks without the search; page the rows a page
// reads; walkCost walkRowsPerSortRow or its like.
func (s *Store) sortsAllMatches(ctx context.Context, matches string, matchArgs []any, all string, allArgs []any, page int, upTo int64, walkCost float64) (bool, error) {
	if s.walkSearches {
		return false, nil
	}
	m, err := s.estimateRows(ctx, matches, matchArgs)
	if err != nil || m <= upTo {
		return true, err
	}
	n, err := s.estimateRows(ctx, all, allArgs)
	if err != nil {
		return false, err
	}
	return sortBeatsWalk(m, n, page, upTo, walkCost), nil
}

// sortBeatsWalk is the choice of sortsAllMatches from its estimates: m
// matches among the n rows the listing walks.
func sortBeatsWalk(m, n int64, page int, upTo int64, walkCost float64) bool {
	return m <= upTo || walkCost*float64(m)*float64(m) <= float64(page)*float64(n)
}

// textForm is how a text search's condition is written, so the planner
// takes the plan sortsAllMatches chose (or estimates it best).
type textForm int

const (
	// textIndexed: the key words by LIKE, which the trigram index takes,
	// and the whole text by strpos (see containsText). For a sort of all
	// matches, and for counting.
	textIndexed textForm = iota
	// textWalked: the whole text by strpos alone, which no index takes, so
	// the planner walks the order's index, filtering.
	textWalked
	// textEstimated: the whole text as one LIKE pattern, which the
	// planner estimates from the column's histogram as typed.
	textEstimated
	// textStartsWith and textFurtherIn split the matches exactly in two:
	// the text starts with the search (a btree range), or holds it from
	// its second character on (a trigram index on substr(column, 2)). Every
	// match is in one or both (see searchCampaignBusinesses).
	textStartsWith
	textFurtherIn
)

// searchArm selects arms of a text search's OR (searchWhere): all of them,
// or, for a search naming businesses read as a UNION (listLinks), the
// businesses' links apart from the rest.
type searchArm int

const (
	armAll        searchArm = iota
	armBusinesses           // business_id = ANY(the named businesses)
	armOthers               // a slug prefix, a destination holding the text
)

// searchMode is how a listing's search runs; resolveSearch picks it.
type searchMode int

const (
	searchNone     searchMode = iota // no search
	searchExactURL                   // destination = ListFilter.URL
	searchHostText                   // on URL's host, and its text contains the URL's
	searchDomain                     // on ListFilter.Domain or a subdomain of it
	searchText                       // slug prefix or normalised fragment
)

// resolveSearch picks how f's search runs: a URL or a domain that some
// link has is searched exactly (an index probe each), anything else as
// text. The probes ignore the other filters, so a URL's links filtered
// down to none list none rather than fuzzy neighbours; every page of a
// listing resolves the same way while its links stand.
func (s *Store) resolveSearch(ctx context.Context, f *ListFilter) error {
	if f.resolved {
		return nil
	}
	f.resolved = true
	f.mode = searchNone
	if strings.TrimSpace(f.Query) == "" {
		return nil
	}
	f.mode = searchText
	norm, err := s.normalizeSearch(ctx, "search_normalize_url", f.Query)
	if err != nil {
		return err
	}
	f.norm = norm
	domain := f.Domain
	if f.URL == "" && domain == "" && norm != "" {
		if f.businessIDs, err = s.namedBusinesses(ctx, norm); err != nil {
			return err
		}
	}
	if f.URL != "" {
		found, err := s.exists(ctx, `SELECT EXISTS (SELECT 1 FROM short_links
			WHERE destination_hash = short_links_url_hash($1) AND destination_url = $1)`, f.URL)
		if err != nil || found {
			f.mode = searchExactURL
			return err
		}
		domain = urlHost(f.URL)
	}
	if domain = strings.TrimPrefix(domain, "www."); domain == "" {
		return nil
	}
	key := reverse(domain)
	found, err := s.exists(ctx, `SELECT EXISTS (SELECT 1 FROM short_links
		WHERE short_links_host_key(destination_url) = $1 OR short_links_host_key(destination_url) LIKE $2)`,
		key, escapeLike(key)+".%")
	if err != nil || !found {
		return err
	}
	f.hostKey = key
	f.mode = searchDomain
	if f.URL != "" {
		f.mode = searchHostText
	}
	return nil
}

// namedBusinesses are the ids of the businesses whose name or city holds
// norm, when there are 1 to namedBusinessesUpTo of them; nil otherwise
// (none: the text is a destination's; more: a common word, searched as
// before).
func (s *Store) namedBusinesses(ctx context.Context, norm string) ([]string, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	estimated := containsText("search_text", norm, textEstimated, arg)
	m, err := s.estimateRows(ctx, `SELECT 1 FROM businesses WHERE `+estimated, args)
	if err != nil || m > namedBusinessesEstimatedUpTo {
		return nil, err
	}
	args = nil
	var ids []string
	if err := s.db.SelectContext(ctx, &ids, `SELECT id FROM businesses WHERE `+
		containsText("search_text", norm, textIndexed, arg)+fmt.Sprintf(" LIMIT %d", namedBusinessesUpTo+1), args...); err != nil {
		return nil, fmt.Errorf("store: search: %w", classify(err))
	}
	if len(ids) == 0 || len(ids) > namedBusinessesUpTo {
		return nil, nil
	}
	return ids, nil
}

// searchURLText is the destination part of a link's search_text (00022:
// the destination, name and city joined by " | "), as indexed by
// short_links_search_url_idx (00038).
const searchURLText = "split_part(search_text, ' | ', 1)"

// normalizeSearch is q normalised by normalize (search_normalize or
// search_normalize_url, both of 00022): only letters, digits and single
// spaces, so it needs no LIKE escaping; "" when nothing is left of q
// (punctuation alone), which then matches nothing.
func (s *Store) normalizeSearch(ctx context.Context, normalize, q string) (string, error) {
	var norm string
	// normalize is one of two constant names, never user input.
	if err := s.db.GetContext(ctx, &norm, `SELECT `+normalize+`($1)`, q); err != nil {
		return "", fmt.Errorf("store: search: %w", classify(err))
	}
	return norm, nil
}

// containsText is the condition "column contains norm" (a normalised
// search text), written in form (textForm); every pattern travels as a
// parameter. Indexed, the trigram index is asked only for norm's key words
// (keyWords): a word shared by most rows ("utm", "source", "com") would
// make the index read most of its posting lists, while a rare word alone
// narrows the rows to a few; the whole text is then checked on those rows
// with strpos, which no index takes.
func containsText(column, norm string, form textForm, arg func(any) string) string {
	switch form {
	case textWalked:
		return "strpos(" + column + ", " + arg(norm) + ") > 0"
	case textEstimated:
		return column + " LIKE " + arg("%"+norm+"%")
	case textStartsWith:
		return column + " LIKE " + arg(norm+"%")
	case textFurtherIn:
		return containsText("substr("+column+", 2)", norm, textIndexed, arg)
	}
	words := strings.Fields(norm)
	keys := keyWords(words)
	if len(words) == 1 && len(keys) == 1 {
		return column + " LIKE " + arg("%"+norm+"%")
	}
	conds := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		conds = append(conds, column+" LIKE "+arg("%"+k+"%"))
	}
	conds = append(conds, "strpos("+column+", "+arg(norm)+") > 0")
	return "(" + strings.Join(conds, " AND ") + ")"
}

// containsURLText is containsText on the destination part of search_text
// (searchURLText), where a text of several words is also asked of the
// trigram index whole. A destination's words run together in its host
// ("rosasbakery.com") and meet only at the URL's own punctuation, so the
// trigrams a name has across its spaces ("er ", " ca", "fe ") are rare
// there, and the index finds the few rows holding them at once: at 10M
// links, "river cafe co" 148 ms by its key words alone, 0.8 ms with the
// whole text too; "cafe pizza" 113 → 0.7 ms; "mullers print shop sons"
// 3.7 → 1.3 ms (EXPLAIN ANALYZE, warm). In the whole search_text the
// name itself holds those trigrams, so there the key words alone are kept.
func containsURLText(norm string, form textForm, arg func(any) string) string {
	cond := containsText(searchURLText, norm, form, arg)
	if form != textIndexed || !strings.Contains(norm, " ") {
		return cond
	}
	return "(" + cond + " AND " + searchURLText + " LIKE " + arg("%"+norm+"%") + ")"
}

// keyWords picks words of a search for the trigram index: those with a
// digit first (numbers are rare: references, house numbers), then the
// longest. With a digit, two: the number narrows the rows to a few, and
// the long words of a URL ("campaign", "source") are on nearly every
// link. Without one, up to four: a business name is common words whose
// combination is rare ("mullers print shop sons" at 1M links: its two
// longest words, on every Müller's Print Shop, left 912 rows to recheck,
// 1,290 buffers; all four 42 rows, 650 buffers). A word under three
// characters has no trigram and is never a key.
func keyWords(words []string) []string {
	var keys []string
	for _, w := range words {
		if len(w) >= 3 && !slices.Contains(keys, w) {
			keys = append(keys, w)
		}
	}
	hasDigit := func(w string) bool { return strings.ContainsAny(w, "0123456789") }
	slices.SortStableFunc(keys, func(a, b string) int {
		if hasDigit(a) != hasDigit(b) {
			if hasDigit(a) {
				return -1
			}
			return 1
		}
		return len(b) - len(a)
	})
	n := 4
	if len(keys) > 0 && hasDigit(keys[0]) {
		n = 2
	}
	return keys[:min(len(keys), n)]
}

// textSearch reports whether f searches text (the modes whose matches the
// planner may misjudge; see sortsAllMatches).
func (f ListFilter) textSearch() bool { return f.mode == searchText || f.mode == searchHostText }

// exists runs a SELECT EXISTS probe.
func (s *Store) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var found bool
	if err := s.db.GetContext(ctx, &found, query, args...); err != nil {
		return false, fmt.Errorf("store: search: %w", classify(err))
	}
	return found, nil
}

// searchWhere adds the condition of f's search mode to where.
func (f ListFilter) searchWhere(where string, args []any) (string, []any) {
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	onHost := func() string {
		return fmt.Sprintf("(short_links_host_key(destination_url) = %s OR short_links_host_key(destination_url) LIKE %s)",
			arg(f.hostKey), arg(escapeLike(f.hostKey)+".%"))
	}
	switch f.mode {
	case searchExactURL:
		// The hash finds the rows through short_links_destination_idx; the
		// URL itself rules out a collision.
		u := arg(f.URL)
		return andWhere(where, fmt.Sprintf("destination_hash = short_links_url_hash(%s) AND destination_url = %s", u, u)), args
	case searchDomain:
		return andWhere(where, onHost()), args
	case searchHostText:
		if f.norm == "" {
			return andWhere(where, onHost()), args
		}
		return andWhere(where, onHost()+" AND "+containsText("search_text", f.norm, f.form, arg)), args
	case searchText:
		var arms []string
		if isSlugShaped(f.Query) && f.arms != armBusinesses {
			arms = append(arms, "lower(slug) LIKE "+arg(escapeLike(strings.ToLower(f.Query))+"%"))
		}
		switch {
		case f.businessIDs != nil:
			// The named businesses' links, or a destination holding the
			// text: the whole text's match (see the top of this file).
			if f.arms != armOthers {
				arms = append(arms, "business_id = ANY("+arg(pq.Array(f.businessIDs))+"::uuid[])")
			}
			if f.arms != armBusinesses {
				arms = append(arms, containsURLText(f.norm, f.form, arg))
			}
		case f.norm != "":
			arms = append(arms, containsText("search_text", f.norm, f.form, arg))
		}
		if len(arms) == 0 {
			return andWhere(where, "false"), args
		}
		return andWhere(where, "("+strings.Join(arms, " OR ")+")"), args
	}
	return where, args
}

// isSlugShaped reports whether q could begin a slug (1–32 letters or
// digits): only then is the slug prefix index asked.
func isSlugShaped(q string) bool {
	if q == "" || len(q) > 32 {
		return false
	}
	for _, c := range q {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// urlHost is the host of a normalised URL ("scheme://host[:port]/…").
func urlHost(u string) string {
	_, rest, _ := strings.Cut(u, "://")
	end := strings.IndexAny(rest, ":/?#")
	if end >= 0 {
		rest = rest[:end]
	}
	return rest
}

// reverse reverses an ASCII host, as short_links_host_key does.
func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
