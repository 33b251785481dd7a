package db_test

import (
	"context"
	"testing"

	"github.com/shortlinks/shortlinks/db"
)

func TestHealthReportsForcedDuplicates(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	h, err := s.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.DuplicateGroups != 0 || !h.UniqueIndexPresent {
		t.Fatalf("fresh database: %+v", h)
	}
	l, _, _ := s.GetOrCreateLink(ctx, siteLink("https://dentist.example.com/"))
	s.Deactivate(ctx, l.Slug)
	s.GetOrCreateLink(ctx, siteLink("https://dentist.example.com/"))

	// Break the guarantee the way an operator could: drop the index, insert.
	s.DB().MustExec(`DROP INDEX ` + db.UniqueIndexName)
	s.DB().MustExec(`INSERT INTO short_links (slug, destination_url) VALUES ('dupdup', 'https://dentist.example.com/')`)

	h, err = s.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.DuplicateGroups != 1 || h.DuplicateLinks != 2 || h.UniqueIndexPresent || h.ActiveLinks != 2 || h.InactiveLinks != 1 || h.HistoryLinks != 1 {
		t.Errorf("health with a forced duplicate: %+v", h)
	}
	groups, err := s.DuplicateGroups(ctx)
	if err != nil || len(groups) != 1 || len(groups[0].Slugs) != 2 || groups[0].Slugs[1] != "dupdup" {
		t.Errorf("groups: %+v %v", groups, err)
	}
}
