package db

import (
	"context"
	"fmt"
	"time"
)

// DayCount is one day of a link's traffic.
type DayCount struct {
	Day      time.Time `db:"day"` // midnight UTC of the calendar day
	Clicks   int64     `db:"clicks"`
	Previews int64     `db:"previews"`
}

// DailyClicks returns the link's clicks and previews for each of the last
// days calendar days (today included), oldest first, with zeros for days
// without traffic. days is clamped to 1..366.
func (s *Store) DailyClicks(ctx context.Context, linkID int64, days int) ([]DayCount, error) {
	days = min(max(days, 1), 366)
	var out []DayCount
	// Today is the UTC day, like the click writer's (FlushClicks rows carry
	// the UTC day of the click), whatever the session's time zone; the
	// series fills the days no click row exists for.
	err := s.db.SelectContext(ctx, &out, `WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS d)
		SELECT today.d - i AS day,
			COALESCE(c.clicks, 0) AS clicks, COALESCE(c.previews, 0) AS previews
		FROM today CROSS JOIN generate_series($2::int - 1, 0, -1) AS i
		LEFT JOIN link_clicks_daily c ON c.link_id = $1 AND c.day = today.d - i
		ORDER BY day`, linkID, days)
	if err != nil {
		return nil, fmt.Errorf("store: daily clicks of link %d: %w", linkID, classify(err))
	}
	return out, nil
}
