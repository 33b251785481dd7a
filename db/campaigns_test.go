package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

func TestListCampaignBusinesses(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	mk := func(name, city, site, status string) db.Business {
		b, err := s.CreateBusiness(ctx, db.NewBusiness{Name: name, City: city, SiteURL: site, Status: status})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rosa := mk("Rosa's Bakery", "Austin", "https://rosa.example.com/", "")
	mk("Austin Auto", "Dallas", "https://auto.example.com/", "")
	mk("Zen Spa", "Santa Fe", "https://zen.example.com/", "")
	mk("Closed Diner", "Austin", "https://closed.example.com/", "do_not_contact")
	mk("100% Organic_Farm", "Boise", "https://farm.example.com/", "")

	// Rosa's site has an active link with clicks, plus a retired one and a
	// link of another type: only the active site_preview link counts.
	old, _, _ := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: *rosa.SiteURL, LinkType: db.LinkTypeSitePreview})
	if _, err := s.Deactivate(ctx, old.Slug); err != nil {
		t.Fatal(err)
	}
	link, _, _ := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: *rosa.SiteURL, LinkType: db.LinkTypeSitePreview})
	s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: *rosa.SiteURL, LinkType: "qr"})
	if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(),
		Rows: []db.ClickRow{{LinkID: link.ID, Day: time.Now(), Clicks: 3}}}); err != nil {
		t.Fatal(err)
	}

	names := func(p db.CampaignPage) []string {
		var out []string
		for _, b := range p.Businesses {
			out = append(out, b.Name)
		}
		return out
	}
	cases := []struct {
		name  string
		f     db.CampaignFilter
		want  []string
		total int
	}{
		{"all ready, by name", db.CampaignFilter{}, []string{"100% Organic_Farm", "Austin Auto", "Rosa's Bakery", "Zen Spa"}, 4},
		{"name or city, any case", db.CampaignFilter{Query: "austin"}, []string{"Austin Auto", "Rosa's Bakery"}, 2},
		{"LIKE wildcards are punctuation", db.CampaignFilter{Query: "0%"}, []string{"100% Organic_Farm"}, 1},
		{"underscore is punctuation, never a wildcard", db.CampaignFilter{Query: "a_s"}, nil, 0},
		{"first page", db.CampaignFilter{Limit: 2}, []string{"100% Organic_Farm", "Austin Auto"}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.ListCampaignBusinesses(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			total, err := s.CountCampaignBusinesses(ctx, tc.f)
			if got := names(p); !equal(got, tc.want) || err != nil || total.N != int64(tc.total) || total.Estimated {
				t.Errorf("got %v total %+v %v, want %v total %d", got, total, err, tc.want, tc.total)
			}
		})
	}

	p, _ := s.ListCampaignBusinesses(ctx, db.CampaignFilter{Query: "rosa"})
	if len(p.Businesses) != 1 {
		t.Fatalf("rosa: %v", p.Businesses)
	}
	got := p.Businesses[0]
	if got.LinkSlug == nil || *got.LinkSlug != link.Slug || got.ClickCount != 3 || got.City != "Austin" {
		t.Errorf("rosa's row: slug %v clicks %d, want %s with 3 clicks", got.LinkSlug, got.ClickCount, link.Slug)
	}
	p, _ = s.ListCampaignBusinesses(ctx, db.CampaignFilter{Query: "zen"})
	if b := p.Businesses[0]; b.LinkSlug != nil || b.ClickCount != 0 || b.SiteURL == nil {
		t.Errorf("zen without a link: %+v", b)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
