package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

func TestDailyClicksFillsGaps(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	l, _, _ := s.GetOrCreateLink(ctx, siteLink("https://bakery.example.com/"))
	other, _, _ := s.GetOrCreateLink(ctx, siteLink("https://other.example.com/"))
	s.DB().MustExec(`INSERT INTO link_clicks_daily (link_id, day, clicks, previews) VALUES
		($1, ((now() AT TIME ZONE 'UTC')::date), 7, 1), ($1, ((now() AT TIME ZONE 'UTC')::date) - 2, 3, 0), ($1, ((now() AT TIME ZONE 'UTC')::date) - 40, 99, 0),
		($2, ((now() AT TIME ZONE 'UTC')::date), 50, 50)`, l.ID, other.ID)
	var today time.Time
	s.DB().Get(&today, `SELECT ((now() AT TIME ZONE 'UTC')::date)`)

	days, err := s.DailyClicks(ctx, l.ID, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 30 {
		t.Fatalf("%d days, want 30", len(days))
	}
	for i, d := range days {
		want := today.AddDate(0, 0, i-29)
		if !d.Day.Equal(want) {
			t.Fatalf("day %d is %s, want %s", i, d.Day, want)
		}
		var clicks, previews int64
		switch i {
		case 29:
			clicks, previews = 7, 1
		case 27:
			clicks = 3
		}
		if d.Clicks != clicks || d.Previews != previews {
			t.Errorf("%s: %d clicks %d previews, want %d and %d", d.Day.Format(time.DateOnly), d.Clicks, d.Previews, clicks, previews)
		}
	}
}
