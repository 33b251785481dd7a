package db_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/shortlinks/shortlinks/db"
)

// searchFixture holds businesses and links whose names and URLs people
// type loosely; each link's slug is set so the results read clearly.
func searchFixture(t *testing.T, opts db.Options) *db.Store {
	t.Helper()
	s := newTestStore(t, opts)
	ctx := context.Background()
	business := func(name, city, site string) *string {
		b, err := s.CreateBusiness(ctx, db.NewBusiness{Name: name, City: city, SiteURL: site})
		if err != nil {
			t.Fatal(err)
		}
		return &b.ID
	}
	rosa := business("Rosa's Bakery", "Austin", "https://www.rosas.com/")
	luna := business("Café Luna", "San José", "https://lunacafe.example/")
	links := []struct {
		slug, url string
		business  *string
	}{
		{"RosaHome", "https://www.rosas.com/", rosa},
		{"rosaMenu", "https://www.rosas.com/menu?utm_source=sms", rosa},
		{"rosaShop", "https://shop.rosas.com/gift-cards", rosa},
		{"larosas1", "https://larosas.com/", nil},
		{"lunaHome", "https://lunacafe.example/", luna},
		{"Zq7Ab3c", "https://example.org/Crème-Brûlée", nil},
	}
	for _, l := range links {
		got, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: l.url, LinkType: "campaign", BusinessID: l.business})
		if err != nil {
			t.Fatal(err)
		}
		s.DB().MustExec(`UPDATE short_links SET slug = $1 WHERE id = $2`, l.slug, got.ID)
	}
	return s
}

// searchPlans are the two ways a search runs: its matches read whole and
// sorted (what a rare search does), or the listing's order walked (what a
// common one does); every search must find the same either way.
var searchPlans = map[string]db.Options{"sorted": {}, "walked": {WalkSearches: true}}

// searchSlugs lists (and counts, and exports) the links f finds, oldest first.
func searchSlugs(t *testing.T, s *db.Store, f db.ListFilter) []string {
	t.Helper()
	ctx := context.Background()
	f.Sort = db.SortOldest
	page, err := s.ListLinks(ctx, f)
	if err != nil {
		t.Fatalf("%+v: %v", f, err)
	}
	var got []string
	for _, l := range page.Links {
		got = append(got, l.Slug)
	}
	total, err := s.CountLinks(ctx, f)
	if err != nil || total.N != int64(len(got)) {
		t.Errorf("%+v: counted %+v %v, listed %d", f, total, err, len(got))
	}
	var exported []string
	if err := s.EachLink(ctx, f, func(l db.ListedLink) error { exported = append(exported, l.Slug); return nil }); err != nil || !slices.Equal(exported, got) {
		t.Errorf("%+v: exported %v %v, listed %v", f, exported, err, got)
	}
	return got
}

func TestLinkSearchFindsWhatPeopleType(t *testing.T) {
	t.Parallel()
	for plan, opts := range searchPlans {
		t.Run(plan, func(t *testing.T) {
			t.Parallel()
			testLinkSearchFindsWhatPeopleType(t, searchFixture(t, opts))
		})
	}
}

func testLinkSearchFindsWhatPeopleType(t *testing.T, s *db.Store) {
	cases := []struct {
		name string
		f    db.ListFilter
		want []string
	}{
		{"apostrophe left out finds the business name", db.ListFilter{Query: "rosas bakery"}, []string{"RosaHome", "rosaMenu", "rosaShop"}},
		{"accent left out finds the business name", db.ListFilter{Query: "cafe"}, []string{"lunaHome"}},
		{"accents typed, any case", db.ListFilter{Query: "CAFÉ LUNA"}, []string{"lunaHome"}},
		{"city without its accent", db.ListFilter{Query: "san jose"}, []string{"lunaHome"}},
		{"city", db.ListFilter{Query: "Austin"}, []string{"RosaHome", "rosaMenu", "rosaShop"}},
		{"accents in a URL path", db.ListFilter{Query: "creme brulee"}, []string{"Zq7Ab3c"}},
		{"punctuation typed differently", db.ListFilter{Query: "gift cards"}, []string{"rosaShop"}},
		{"a path fragment", db.ListFilter{Query: "menu?utm"}, []string{"rosaMenu"}},
		{"slug prefix, any case", db.ListFilter{Query: "zq7"}, []string{"Zq7Ab3c"}},
		{"the middle of a slug is not a slug search", db.ListFilter{Query: "Ab3c"}, nil},
		{"punctuation alone", db.ListFilter{Query: "'-"}, nil},
		{"never across two fields", db.ListFilter{Query: "bakery austin"}, nil},
	}
	for _, tc := range cases {
		if got := searchSlugs(t, s, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s (%q): %v, want %v", tc.name, tc.f.Query, got, tc.want)
		}
	}
}

func TestLinkSearchByURLAndDomain(t *testing.T) {
	t.Parallel()
	for plan, opts := range searchPlans {
		t.Run(plan, func(t *testing.T) {
			t.Parallel()
			testLinkSearchByURLAndDomain(t, searchFixture(t, opts))
		})
	}
}

func testLinkSearchByURLAndDomain(t *testing.T, s *db.Store) {
	cases := []struct {
		name string
		f    db.ListFilter
		want []string
	}{
		{"a full URL finds exactly its link, not those extending it",
			db.ListFilter{Query: "https://www.rosas.com/", URL: "https://www.rosas.com/"}, []string{"RosaHome"}},
		{"a URL no link has: the links on its host that contain it",
			db.ListFilter{Query: "https://www.rosas.com/menu", URL: "https://www.rosas.com/menu"}, []string{"rosaMenu"}},
		{"a URL on a host with no links: text search",
			db.ListFilter{Query: "https://elsewhere.example/menu", URL: "https://elsewhere.example/menu"}, nil},
		{"a domain: its links and its subdomains', not a longer name",
			db.ListFilter{Query: "rosas.com", Domain: "rosas.com"}, []string{"RosaHome", "rosaMenu", "rosaShop"}},
		{"a subdomain", db.ListFilter{Query: "shop.rosas.com", Domain: "shop.rosas.com"}, []string{"rosaShop"}},
		{"a domain no link is on: text search",
			db.ListFilter{Query: "rosas.co", Domain: "rosas.co"}, []string{"RosaHome", "rosaMenu", "rosaShop", "larosas1"}},
		{"filters still apply to a URL's links",
			db.ListFilter{Query: "https://www.rosas.com/", URL: "https://www.rosas.com/", LinkType: "site_preview"}, nil},
	}
	for _, tc := range cases {
		if got := searchSlugs(t, s, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s (%q): %v, want %v", tc.name, tc.f.Query, got, tc.want)
		}
	}
}

func TestRenamedBusinessIsFoundByItsNewName(t *testing.T) {
	t.Parallel()
	s := searchFixture(t, db.Options{})
	s.DB().MustExec(`UPDATE businesses SET name = 'Crêperie Zoë', city = 'Montréal' WHERE name = 'Café Luna'`)
	for q, want := range map[string][]string{
		"creperie zoe": {"lunaHome"}, "montreal": {"lunaHome"}, "cafe luna": nil,
	} {
		if got := searchSlugs(t, s, db.ListFilter{Query: q}); !slices.Equal(got, want) {
			t.Errorf("%q after the rename: %v, want %v", q, got, want)
		}
	}
	camp, err := s.ListCampaignBusinesses(context.Background(), db.CampaignFilter{Query: "CREPERIE"})
	if err != nil || len(camp.Businesses) != 1 || camp.Businesses[0].Name != "Crêperie Zoë" {
		t.Errorf("campaign search after the rename: %+v %v", camp.Businesses, err)
	}
}

func TestCampaignSearchIgnoresCaseAccentsAndPunctuation(t *testing.T) {
	t.Parallel()
	for plan, opts := range searchPlans {
		t.Run(plan, func(t *testing.T) {
			t.Parallel()
			testCampaignSearchIgnoresCaseAccentsAndPunctuation(t, searchFixture(t, opts))
		})
	}
}

func testCampaignSearchIgnoresCaseAccentsAndPunctuation(t *testing.T, s *db.Store) {
	for q, want := range map[string][]string{
		"rosas": {"Rosa's Bakery"}, "ROSA'S": {"Rosa's Bakery"}, "rosa’s bakery": {"Rosa's Bakery"},
		"cafe": {"Café Luna"}, "San Jose": {"Café Luna"}, "café  luna": {"Café Luna"}, "luna cafe": nil,
	} {
		p, err := s.ListCampaignBusinesses(context.Background(), db.CampaignFilter{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range p.Businesses {
			got = append(got, b.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", q, got, want)
		}
	}
}

// A common word of the campaign listing (one business in two here) is
// found by walking the name order: every page holds the next matches in
// order, forwards and back, the same as when every match is sorted.
func TestCampaignSearchWalksACommonWord(t *testing.T) {
	t.Parallel()
	for plan, opts := range searchPlans {
		t.Run(plan, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t, opts)
			ctx := context.Background()
			var want []string
			for i := range 60 {
				name := fmt.Sprintf("Shop %02d Salon", i)
				if i%2 == 0 {
					name = fmt.Sprintf("Shop %02d Bakery", i)
					want = append(want, name)
				}
				if _, err := s.CreateBusiness(ctx, db.NewBusiness{Name: name, City: "Austin"}); err != nil {
					t.Fatal(err)
				}
			}
			s.DB().MustExec(`ANALYZE businesses`)
			f := db.CampaignFilter{Query: "BAKERY", Limit: 7}
			pages, got := campaignPages(t, s, f)
			if !slices.Equal(got, want) {
				t.Fatalf("walked %v, want %v", got, want)
			}
			// The last page's previous page is the one before it.
			last := pages[len(pages)-1]
			f.Cursor = last.Prev
			p, err := s.ListCampaignBusinesses(ctx, f)
			if err != nil || len(p.Businesses) != 7 || p.Businesses[0].Name != pages[len(pages)-2].Businesses[0].Name {
				t.Fatalf("previous page: %+v %v", p.Businesses, err)
			}
		})
	}
}

func TestLinkSearchForABusinessNameFindsItsLinksAndURLsNamingIt(t *testing.T) {
	t.Parallel()
	for plan, opts := range searchPlans {
		t.Run(plan, func(t *testing.T) {
			t.Parallel()
			testLinkSearchForABusinessName(t, newTestStore(t, opts))
		})
	}
}

// A business name is searched through the businesses it names: their
// links are found, a destination that spells the name out is found, and
// businesses with only some of its words are not.
func testLinkSearchForABusinessName(t *testing.T, s *db.Store) {
	ctx := context.Background()
	business := func(name, city string) *string {
		b, err := s.CreateBusiness(ctx, db.NewBusiness{Name: name, City: city, SiteURL: "https://example.com/"})
		if err != nil {
			t.Fatal(err)
		}
		return &b.ID
	}
	express := business("Bella's Pizza Express", "Austin")
	expressToo := business("Bella's Pizza Express", "Bogotá")
	plain := business("Bella's Pizza", "Austin")
	other := business("Rosa's Pizza Express", "Austin")
	for i, l := range []struct {
		slug, url string
		business  *string
	}{
		{"express1", "https://bellapizza.example/a", express},
		{"express2", "https://bellapizza.example/b", express},
		{"bogota1", "https://bellabogota.example/", expressToo},
		{"plain1", "https://bellapizza.example/c", plain},
		{"other1", "https://rosaspizza.example/", other},
		{"spelled1", "https://bellas-pizza-express.example/", nil},
		{"nobody1", "https://unrelated.example/", nil},
	} {
		got, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: l.url, LinkType: "campaign", BusinessID: l.business})
		if err != nil {
			t.Fatal(i, err)
		}
		s.DB().MustExec(`UPDATE short_links SET slug = $1 WHERE id = $2`, l.slug, got.ID)
	}
	for q, want := range map[string][]string{
		"Bella's Pizza Express":  {"express1", "express2", "bogota1", "spelled1"},
		"bellas pizza express":   {"express1", "express2", "bogota1", "spelled1"},
		"BELLAS PIZZA":           {"express1", "express2", "bogota1", "plain1", "spelled1"},
		"bellas pizza express b": nil,
		"pizza express austin":   nil,
		"bogota":                 {"bogota1"},
	} {
		if got := searchSlugs(t, s, db.ListFilter{Query: q}); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", q, got, want)
		}
	}
}

// A search that must sort its matches (the walk through the first names
// finds none) reads them in two parts, the names that start with it and
// those holding it further in (or in the city): every page is the next
// matches in name order, forwards and back, each business once even when
// it is in both parts.
func TestCampaignSearchSortsMatchesFromTheStartAndFurtherIn(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	// Ten thousand names that sort first and never match: the first walk
	// comes up empty, as at 1M businesses for a name that sorts late.
	s.DB().MustExec(`INSERT INTO businesses (name, city, status)
		SELECT 'Aaa ' || lpad(i::text, 5, '0'), 'Austin', 'ready_for_outreach' FROM generate_series(1, 10000) i`)
	for i := range 6 {
		for _, name := range []string{"Rosa's Bakery %d", "Big Rosa's Deli %d", "Zeta Shop %d"} {
			city := "Austin"
			if name == "Zeta Shop %d" {
				city = "Rosas Town"
			}
			if _, err := s.CreateBusiness(ctx, db.NewBusiness{Name: fmt.Sprintf(name, i), City: city}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.CreateBusiness(ctx, db.NewBusiness{Name: "Rosa's Rosa's Grill", City: "Austin"}); err != nil {
		t.Fatal(err)
	}
	s.DB().MustExec(`ANALYZE businesses`)
	var want []string
	if err := s.DB().Select(&want, `SELECT name FROM businesses WHERE status = 'ready_for_outreach'
		AND strpos(search_text, 'rosas') > 0 ORDER BY name, id`); err != nil || len(want) != 19 {
		t.Fatalf("%d matches (%v), want 19", len(want), err)
	}
	f := db.CampaignFilter{Query: "ROSAS", Limit: 4}
	pages, got := campaignPages(t, s, f)
	if !slices.Equal(got, want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	for i := len(pages) - 1; i > 0; i-- {
		f.Cursor = pages[i].Prev
		p, err := s.ListCampaignBusinesses(ctx, f)
		if err != nil || len(p.Businesses) != 4 || p.Businesses[0].Name != pages[i-1].Businesses[0].Name ||
			p.Businesses[3].Name != pages[i-1].Businesses[3].Name {
			t.Fatalf("page before page %d: %+v %v, want %+v", i+1, p.Businesses, err, pages[i-1].Businesses)
		}
	}
}

// campaignPages reads the campaign listing for f page by page through its
// next cursors (at most 20 pages), returning the pages and the names in
// the order they came.
func campaignPages(t *testing.T, s *db.Store, f db.CampaignFilter) ([]db.CampaignPage, []string) {
	t.Helper()
	var pages []db.CampaignPage
	var names []string
	for len(pages) < 20 {
		p, err := s.ListCampaignBusinesses(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		for _, b := range p.Businesses {
			names = append(names, b.Name)
		}
		if p.Next == nil {
			break
		}
		f.Cursor = p.Next
	}
	return pages, names
}

// A search naming businesses pages like any listing, under both plans and
// in every order: forwards and back by cursor, and by offset (the Shlink
// API's pages), each link once, the businesses' links and the destinations
// spelling the name out together (a link that is both, once), filtered by
// type.
func TestLinkSearchForABusinessNamePages(t *testing.T) {
	t.Parallel()
	for plan, opts := range searchPlans {
		t.Run(plan, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t, opts)
			ctx := context.Background()
			var want []string // oldest first
			for i := range 4 {
				b, err := s.CreateBusiness(ctx, db.NewBusiness{Name: "Bella's Pizza Express", City: fmt.Sprint("Austin ", i),
					SiteURL: fmt.Sprintf("https://bella%d.example/", i)})
				if err != nil {
					t.Fatal(err)
				}
				for j := range 3 {
					url := fmt.Sprintf("https://bella%d.example/p%d", i, j)
					if j == 2 {
						url = fmt.Sprintf("https://bellas-pizza-express.example/%d", i) // both arms
					}
					l, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: url, LinkType: []string{"sms", "email"}[j%2], BusinessID: &b.ID})
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, l.Slug)
				}
				spelled, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: fmt.Sprintf("https://bellas-pizza-express.example/x%d", i), LinkType: "sms"})
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, spelled.Slug)
				if _, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: fmt.Sprintf("https://bella%d.example/other", i), LinkType: "sms"}); err != nil {
					t.Fatal(err)
				}
			}
			// Created in one statement each, in order: oldest first is want.
			for _, sort := range []db.LinkSort{db.SortOldest, db.SortNewest} {
				expect := slices.Clone(want)
				if sort == db.SortNewest {
					slices.Reverse(expect)
				}
				f := db.ListFilter{Query: "bellas pizza express", Sort: sort, Limit: 5}
				if got := walkPages(t, s, f); !slices.Equal(got, expect) {
					t.Errorf("%s by cursor: %v, want %v", sort, got, expect)
				}
				var byOffset []string
				for off := 0; off < len(expect)+5; off += 5 {
					f.Offset = off
					page, err := s.ListLinks(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					for _, l := range page.Links {
						byOffset = append(byOffset, l.Slug)
					}
				}
				if !slices.Equal(byOffset, expect) {
					t.Errorf("%s by offset: %v, want %v", sort, byOffset, expect)
				}
			}
			emails := searchSlugs(t, s, db.ListFilter{Query: "bellas pizza express", LinkType: "email"})
			if len(emails) != 4 {
				t.Errorf("email links: %v, want 4", emails)
			}
		})
	}
}

// walkPages reads every page of f by Next, then every page back by Prev,
// and returns the slugs in order (failing when the two walks disagree).
func walkPages(t *testing.T, s *db.Store, f db.ListFilter) []string {
	t.Helper()
	ctx := context.Background()
	var forward []string
	var last db.LinkPage
	for {
		page, err := s.ListLinks(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range page.Links {
			forward = append(forward, l.Slug)
		}
		last = page
		if page.Next == nil {
			break
		}
		f.Cursor = page.Next
	}
	var back []string
	for page := last; page.Prev != nil; {
		f.Cursor = page.Prev
		var err error
		if page, err = s.ListLinks(ctx, f); err != nil {
			t.Fatal(err)
		}
		var slugs []string
		for _, l := range page.Links {
			slugs = append(slugs, l.Slug)
		}
		back = append(slugs, back...)
	}
	if n := len(last.Links); !slices.Equal(append(back, forward[len(forward)-n:]...), forward) {
		t.Errorf("back %v, forward %v", back, forward)
	}
	return forward
}
