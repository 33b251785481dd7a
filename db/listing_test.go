package db_test

import (
	"context"
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
		{"oldest first", db.ListFilter{Ascending: true}, []string{"link0", "link1", "link2", "link3", "link4"}},
		{"most clicked", db.ListFilter{Sort: "clicks"}, []string{"link4", "link3", "link2", "link1", "link0"}},
		{"least clicked", db.ListFilter{Sort: "clicks", Ascending: true}, []string{"link0", "link1", "link2", "link3", "link4"}},
		{"destination text", db.ListFilter{Query: "BAKERY"}, []string{"link3", "link0"}},
		{"slug text", db.ListFilter{Query: "link1"}, []string{"link1"}},
		{"LIKE wildcards match literally", db.ListFilter{Query: "100%_f"}, []string{"link2"}},
		{"a lone % matches nothing special", db.ListFilter{Query: "%"}, []string{"link2"}},
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
		if !slices.Equal(got, tc.slugs) || page.Total != len(tc.slugs) {
			t.Errorf("%s: %v total %d, want %v", tc.name, got, page.Total, tc.slugs)
		}
	}
}

func TestListLinksPagesAndBusinessName(t *testing.T) {
	t.Parallel()
	s := listFixture(t)
	ctx := context.Background()
	var seen []string
	for offset := 0; offset < 6; offset += 2 {
		page, err := s.ListLinks(ctx, db.ListFilter{Limit: 2, Offset: offset, Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 5 {
			t.Errorf("offset %d: total %d, want 5", offset, page.Total)
		}
		for _, l := range page.Links {
			seen = append(seen, l.Slug)
			if name := l.BusinessName; (l.Slug == "link0") != (name != nil && *name == "Rosa's Bakery") {
				t.Errorf("%s: business name %v", l.Slug, name)
			}
		}
	}
	if want := []string{"link0", "link1", "link2", "link3", "link4"}; !slices.Equal(seen, want) {
		t.Errorf("pages held %v, want %v", seen, want)
	}
	past, err := s.ListLinks(ctx, db.ListFilter{Limit: 2, Offset: 10})
	if err != nil || len(past.Links) != 0 || past.Total != 5 {
		t.Errorf("past the end: %d links, total %d, %v", len(past.Links), past.Total, err)
	}
}

func TestEachLinkWalksEveryMatch(t *testing.T) {
	t.Parallel()
	s := listFixture(t)
	var got []string
	var bakery string
	err := s.EachLink(context.Background(), db.ListFilter{Sort: "clicks", Limit: 1, Offset: 3}, func(l db.ListedLink) error {
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
		t.Errorf("walked %v (business %q), want %v ignoring limit and offset", got, bakery, want)
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
