package db_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shortlinks/shortlinks/db"
)

// listFixture creates five links: three site previews (one inactive, one
// with a business), two campaign links; clicks 0..4 in creation order.
func listFixture(t *testing.T) *db.Store {
	t.Helper()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	b, err := s.CreateBusiness(ctx, db.NewBusiness{Name: "Rosa's Bakery", SiteURL: "https://bakery.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := []db.LinkRequest{
		{DestinationURL: "https://bakery.example.com/", LinkType: "site_preview", BusinessID: &b.ID},
		{DestinationURL: "https://dentist.example.com/", LinkType: "site_preview"},
		{DestinationURL: "https://florist.example.com/100%_fresh", LinkType: "site_preview"},
		{DestinationURL: "https://bakery.example.com/", LinkType: "campaign"},
		{DestinationURL: "https://gym.example.com/", LinkType: "campaign"},
	}
	for i, r := range reqs {
		l, _, err := s.GetOrCreateLink(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		s.DB().MustExec(`UPDATE short_links SET click_count = $1, slug = $2 WHERE id = $3`, i, fmt.Sprintf("link%d", i), l.ID)
	}
	if _, err := s.Deactivate(ctx, "link2"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestListLinksFilters(t *testing.T) {
	t.Parallel()
	s := listFixture(t)
	ctx := context.Background()
	yes, no := true, false
	cases := []struct {
		name  string
		f     db.ListFilter
		slugs []string
	}{
		{"everything, newest first", db.ListFilter{}, []string{"link4", "link3", "link2", "link1", "link0"}},
		{"oldest first", db.ListFilter{Sort: db.SortOldest}, []string{"link0", "link1", "link2", "link3", "link4"}},
		{"most clicked", db.ListFilter{Sort: db.SortMostClicks}, []string{"link4", "link3", "link2", "link1", "link0"}},
		{"least clicked", db.ListFilter{Sort: db.SortFewestClicks}, []string{"link0", "link1", "link2", "link3", "link4"}},
		{"destination text", db.ListFilter{Query: "BAKERY"}, []string{"link3", "link0"}},
		{"slug text", db.ListFilter{Query: "link1"}, []string{"link1"}},
		{"LIKE wildcards match literally", db.ListFilter{Query: "100%_f"}, []string{"link2"}},
		{"punctuation alone finds nothing", db.ListFilter{Query: "%"}, nil},
		{"type", db.ListFilter{LinkType: "campaign"}, []string{"link4", "link3"}},
		{"inactive", db.ListFilter{Active: &no}, []string{"link2"}},
		{"active site previews", db.ListFilter{Active: &yes, LinkType: "site_preview"}, []string{"link1", "link0"}},
	}
	for _, tc := range cases {
		page, err := s.ListLinks(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, l := range page.Links {
			got = append(got, l.Slug)
		}
		total, err := s.CountLinks(ctx, tc.f)
		if !slices.Equal(got, tc.slugs) || err != nil || total != (db.Count{N: int64(len(tc.slugs))}) {
			t.Errorf("%s: %v total %+v %v, want %v", tc.name, got, total, err, tc.slugs)
		}
		if page.Next != nil || page.Prev != nil {
			t.Errorf("%s: one page has neighbours: %+v %+v", tc.name, page.Next, page.Prev)
		}
	}
}

func TestListLinksPagesAndBusinessName(t *testing.T) {
	t.Parallel()
	s := listFixture(t)
	ctx := context.Background()
	var seen []string
	var cur *db.Cursor
	var last db.LinkPage
	for pages := 0; ; pages++ {
		page, err := s.ListLinks(ctx, db.ListFilter{Limit: 2, Sort: db.SortOldest, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		if (pages == 0) != (page.Prev == nil) {
			t.Errorf("page %d: previous %+v", pages, page.Prev)
		}
		for _, l := range page.Links {
			seen = append(seen, l.Slug)
			if name := l.BusinessName; (l.Slug == "link0") != (name != nil && *name == "Rosa's Bakery") {
				t.Errorf("%s: business name %v", l.Slug, name)
			}
		}
		last = page
		if cur = page.Next; cur == nil || pages > 5 {
			break
		}
	}
	if want := []string{"link0", "link1", "link2", "link3", "link4"}; !slices.Equal(seen, want) {
		t.Errorf("pages held %v, want %v", seen, want)
	}
	// Back from the last page: the two links before it, in order.
	back, err := s.ListLinks(ctx, db.ListFilter{Limit: 2, Sort: db.SortOldest, Cursor: last.Prev})
	if err != nil || len(back.Links) != 2 || back.Links[0].Slug != "link2" || back.Links[1].Slug != "link3" || back.Next == nil || back.Prev == nil {
		t.Errorf("previous page: %+v %v", back, err)
	}
	// A cursor of another order is refused, not silently misread.
	if _, err := s.ListLinks(ctx, db.ListFilter{Sort: db.SortMostClicks, Cursor: last.Prev}); !errors.Is(err, db.ErrInvalidInput) {
		t.Errorf("cursor of another order: %v, want ErrInvalidInput", err)
	}
}

func TestEachLinkWalksEveryMatch(t *testing.T) {
	t.Parallel()
	s := listFixture(t)
	var got []string
	var bakery string
	err := s.EachLink(context.Background(), db.ListFilter{Sort: db.SortMostClicks, Limit: 1}, func(l db.ListedLink) error {
		got = append(got, l.Slug)
		if l.BusinessName != nil {
			bakery = *l.BusinessName
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"link4", "link3", "link2", "link1", "link0"}; !slices.Equal(got, want) || bakery != "Rosa's Bakery" {
		t.Errorf("walked %v (business %q), want %v ignoring the limit", got, bakery, want)
	}
}

func TestActiveLinkSharingDestination(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	old, _, _ := s.GetOrCreateLink(ctx, siteLink("https://vet.example.com/"))
	if _, err := s.Deactivate(ctx, old.Slug); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActiveLinkSharingDestination(ctx, old.Slug); err == nil {
		t.Error("found a blocker while no link is active")
	}
	current, _, _ := s.GetOrCreateLink(ctx, siteLink("https://vet.example.com/"))
	got, err := s.ActiveLinkSharingDestination(ctx, old.Slug)
	if err != nil || got.Slug != current.Slug {
		t.Errorf("blocker of %s: %q %v, want %s", old.Slug, got.Slug, err, current.Slug)
	}
	if _, err := s.ActiveLinkSharingDestination(ctx, current.Slug); err == nil {
		t.Error("an active link was reported as blocking itself")
	}
}

// Totals are exact up to 1,000 and labelled estimates past it, so counting
// never reads more than about a thousand rows.
func TestCountLinksEstimatesPastAThousand(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	s.DB().MustExec(`INSERT INTO short_links (slug, destination_url, link_type)
		SELECT 'c' || i, 'https://c' || i || '.example.com/', CASE WHEN i <= 3 THEN 'qr' ELSE 'sms' END
		FROM generate_series(1, 1500) i`)
	s.DB().MustExec(`ANALYZE short_links`)
	all, err := s.CountLinks(ctx, db.ListFilter{})
	if err != nil || !all.Estimated || all.N < 1001 {
		t.Errorf("1,500 links: %+v %v, want an estimate above 1,000", all, err)
	}
	qr, err := s.CountLinks(ctx, db.ListFilter{LinkType: "qr"})
	if err != nil || qr != (db.Count{N: 3}) {
		t.Errorf("3 qr links: %+v %v, want exactly 3", qr, err)
	}
}
