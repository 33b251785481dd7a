package db

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// DuplicateGroup is a (destination, link type) with more than one active link:
// a broken guarantee. Healthy databases have none.
type DuplicateGroup struct {
	DestinationURL string    `db:"destination_url"`
	LinkType       string    `db:"link_type"`
	Links          int       `db:"links"`
	Slugs          []string  `db:"-"`
	FirstCreated   time.Time `db:"first_created"`
}

// DuplicateGroups runs the monitoring query: active (destination, link_type)
// groups with more than one row, largest first (at most 100).
func (s *Store) DuplicateGroups(ctx context.Context) ([]DuplicateGroup, error) {
	var rows []struct {
		DuplicateGroup
		Slugs pq.StringArray `db:"slugs"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT destination_url, link_type, COUNT(*) AS links,
			array_agg(slug ORDER BY created_at, id) AS slugs, MIN(created_at) AS first_created
		FROM short_links
		WHERE is_active
		GROUP BY destination_url, link_type
		HAVING COUNT(*) > 1
		ORDER BY links DESC, first_created
		LIMIT 100`)
	if err != nil {
		return nil, fmt.Errorf("store: duplicate groups: %w", classify(err))
	}
	groups := make([]DuplicateGroup, len(rows))
	for i, r := range rows {
		groups[i] = r.DuplicateGroup
		groups[i].Slugs = []string(r.Slugs)
	}
	return groups, nil
}

// Health is the duplicate-health summary shown on the dashboard and API.
type Health struct {
	DuplicateGroups    int       `db:"duplicate_groups"`
	DuplicateLinks     int       `db:"duplicate_links"` // active links inside duplicate groups
	UniqueIndexPresent bool      `db:"unique_index_present"`
	ActiveLinks        int       `db:"active_links"`
	InactiveLinks      int       `db:"inactive_links"`
	HistoryLinks       int       `db:"history_links"` // inactive links whose destination has an active link
	CheckedAt          time.Time `db:"checked_at"`
}

// Health computes the duplicate-health summary in one statement, so every
// figure comes from the same snapshot.
func (s *Store) Health(ctx context.Context) (Health, error) {
	var h Health
	err := s.db.GetContext(ctx, &h, `WITH groups AS (
			SELECT COUNT(*) AS n FROM short_links WHERE is_active
			GROUP BY destination_url, link_type HAVING COUNT(*) > 1
		)
		SELECT
			(SELECT COUNT(*) FROM groups) AS duplicate_groups,
			(SELECT COALESCE(SUM(n), 0) FROM groups) AS duplicate_links,
			EXISTS (SELECT 1 FROM pg_indexes
			        WHERE schemaname = current_schema() AND tablename = 'short_links'
			          AND indexname = $1) AS unique_index_present,
			(SELECT COUNT(*) FROM short_links WHERE is_active) AS active_links,
			(SELECT COUNT(*) FROM short_links WHERE NOT is_active) AS inactive_links,
			(SELECT COUNT(*) FROM short_links h WHERE NOT h.is_active AND EXISTS (
				SELECT 1 FROM short_links a WHERE a.is_active
				  AND a.destination_hash = h.destination_hash AND a.link_type = h.link_type
				  AND a.destination_url = h.destination_url)) AS history_links,
			clock_timestamp() AS checked_at`, UniqueIndexName)
	if err != nil {
		return Health{}, fmt.Errorf("store: health: %w", classify(err))
	}
	return h, nil
}

// HealDuplicates applies the heal rule of migration 00004 (keep the oldest
// active link of each (destination, link type), deactivate the others) and
// records in each deactivated duplicate the link it was merged into, so its
// slug keeps redirecting there. Links already superseded by a deactivated
// duplicate are re-pointed to the survivor, so forwarding stays one hop.
// It returns the slugs it deactivated; with the unique index in place there
// are none.
func (s *Store) HealDuplicates(ctx context.Context) ([]string, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: heal duplicates: %w", classify(err))
	}
	defer tx.Rollback()
	// As in 00004: block writers between reading the groups and changing
	// them, so no duplicate created meanwhile escapes (readers proceed).
	if _, err := tx.ExecContext(ctx, `LOCK TABLE short_links IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return nil, fmt.Errorf("store: heal duplicates: %w", classify(err))
	}
	var slugs []string
	err = tx.SelectContext(ctx, &slugs, `WITH ranked AS (
			SELECT id, first_value(id) OVER w AS survivor, row_number() OVER w AS rank
			FROM short_links
			WHERE is_active
			WINDOW w AS (PARTITION BY destination_hash, destination_url, link_type ORDER BY created_at, id)
		), losers AS (
			UPDATE short_links l
			SET is_active = false, superseded_by = r.survivor, updated_at = clock_timestamp()
			FROM ranked r
			WHERE l.id = r.id AND r.rank > 1
			RETURNING l.id, l.slug, r.survivor
		), repointed AS (
			UPDATE short_links d SET superseded_by = losers.survivor
			FROM losers WHERE d.superseded_by = losers.id
		)
		SELECT slug FROM losers ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("store: heal duplicates: %w", classify(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: heal duplicates: %w", classify(err))
	}
	return slugs, nil
}
