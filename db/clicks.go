package db

import (
	"context"
	"fmt"
)

// RecordClick counts one click on the link, in its total and its day.
func (s *Store) RecordClick(ctx context.Context, linkID int64) error {
	_, err := s.db.ExecContext(ctx, `WITH bump AS (
			UPDATE short_links SET click_count = click_count + 1 WHERE id = $1 RETURNING id
		)
		INSERT INTO link_clicks_daily (link_id, day, clicks)
		SELECT id, current_date, 1 FROM bump
		ON CONFLICT (link_id, day) DO UPDATE SET clicks = link_clicks_daily.clicks + 1`, linkID)
	if err != nil {
		return fmt.Errorf("store: record click: %w", classify(err))
	}
	return nil
}
