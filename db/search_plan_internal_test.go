package db

import (
	"context"
	"testing"

	"github.com/shortlinks/shortlinks/db/pgtest"
)

// A text search's plan is chosen from the text estimated as one pattern:
// "offers spring" on every link is common (walked) although each word's
// estimate multiplied by the other's would make it look rare, and a word
// on one link is sorted. Both plans find the same links, and the count of
// a common text is an estimate past exactCountLimit.
func TestTextSearchPlanFollowsTheWholeText(t *testing.T) {
	ctx := context.Background()
	conn, err := Open(ctx, pgtest.NewMigratedDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := New(conn, Options{})
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, link_type)
		SELECT 'p' || g, 'https://shop' || g || '.example/offers/spring?utm_source=sms', 'campaign'
		FROM generate_series(1, 6000) g`)
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, link_type)
		VALUES ('rare1', 'https://unique.example/zebra-crossing', 'campaign')`)
	conn.MustExec(`ANALYZE short_links`)

	plan := func(q string) bool {
		f := ListFilter{Query: q}
		if err := s.resolveSearch(ctx, &f); err != nil {
			t.Fatal(err)
		}
		sortAll, err := s.linkSearchSortsAll(ctx, f, "short_links", 51)
		if err != nil {
			t.Fatal(err)
		}
		return sortAll
	}
	if plan("offers/spring") {
		t.Error(`"offers/spring" on every link: sorted, want walked`)
	}
	if !plan("zebra crossing") {
		t.Error(`"zebra crossing" on one link: walked, want sorted`)
	}

	page, err := s.ListLinks(ctx, ListFilter{Query: "offers/spring", Sort: SortOldest, Limit: 10})
	if err != nil || len(page.Links) != 10 || page.Links[0].Slug != "p1" || page.Next == nil || page.Total != nil {
		t.Fatalf("walked page: %+v %v", page, err)
	}
	n, err := s.CountLinks(ctx, ListFilter{Query: "offers/spring"})
	if err != nil || !n.Estimated || n.N <= exactCountLimit {
		t.Errorf("common text counted %+v %v, want an estimate past %d", n, err, exactCountLimit)
	}
	page, err = s.ListLinks(ctx, ListFilter{Query: "Zebra-Crossing"})
	if err != nil || len(page.Links) != 1 || page.Links[0].Slug != "rare1" || page.Total == nil || *page.Total != (Count{N: 1}) {
		t.Fatalf("sorted page: %+v %v", page, err)
	}
	// A sort reads every match, so its first page knows the total.
	page, err = s.ListLinks(ctx, ListFilter{Query: "shop12", Limit: 5})
	if err != nil || len(page.Links) != 5 || page.Next == nil || page.Total == nil {
		t.Fatalf("sorted first page: %+v %v", page, err)
	}
	n, err = s.CountLinks(ctx, ListFilter{Query: "shop12"})
	if err != nil || n.N != page.Total.N {
		t.Errorf("shop12: page said %+v, CountLinks %+v %v", page.Total, n, err)
	}
	n, err = s.CountLinks(ctx, ListFilter{Query: "Zebra-Crossing"})
	if err != nil || n.Estimated || n.N != 1 {
		t.Errorf("rare text counted %+v %v, want exactly 1", n, err)
	}
}

// A text that names a few businesses is resolved against businesses first
// (namedBusinesses): its links are listed through those businesses' IDs,
// not by intersecting the trigram lists of every link with one of its
// words. A text naming no business, and a domain, leave the IDs unset.
func TestSearchResolvesANamedBusinessFirst(t *testing.T) {
	ctx := context.Background()
	conn, err := Open(ctx, pgtest.NewMigratedDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := New(conn, Options{})
	var bella string
	if err := conn.Get(&bella, `INSERT INTO businesses (id, name, city) VALUES (gen_random_uuid(), 'Bella''s Pizza Express', 'Austin') RETURNING id::text`); err != nil {
		t.Fatal(err)
	}
	conn.MustExec(`INSERT INTO businesses (id, name, city) SELECT gen_random_uuid(), 'Shop ' || g, 'Dallas' FROM generate_series(1, 200) g`)
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, link_type, business_id)
		VALUES ('bella1', 'https://bellas.example/', 'site_preview', $1::uuid)`, bella)
	conn.MustExec(`ANALYZE businesses`)
	for q, want := range map[string][]string{
		"bellas pizza express": {bella},
		"zebra crossing":       nil,
	} {
		f := ListFilter{Query: q}
		if err := s.resolveSearch(ctx, &f); err != nil {
			t.Fatal(err)
		}
		if len(f.businessIDs) != len(want) || len(want) == 1 && f.businessIDs[0] != want[0] {
			t.Errorf("%q resolved to businesses %v, want %v", q, f.businessIDs, want)
		}
	}
	page, err := s.ListLinks(ctx, ListFilter{Query: "Bella's Pizza Express"})
	if err != nil || len(page.Links) != 1 || page.Links[0].Slug != "bella1" {
		t.Errorf("the named business's links: %+v %v", page.Links, err)
	}
}
