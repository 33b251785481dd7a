package db

import (
	"context"
	"fmt"

	"github.com/lib/pq"
)

// ActiveLinksBlocking maps each inactive link among slugs to the active link
// (its slug) that shares its destination and link type: the one that would
// make reactivating it fail. Inactive links with no such sibling, and active
// links, are absent. The listing uses it so it never offers a Reactivate
// button that cannot work.
func (s *Store) ActiveLinksBlocking(ctx context.Context, slugs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(slugs) == 0 {
		return out, nil
	}
	var rows []struct {
		Slug    string `db:"slug"`
		Blocker string `db:"blocker"`
	}
	// The lateral lookup matches the partial unique index's columns (and
	// the URL itself, as a hash can collide), so it is an index probe per
	// listed link.
	err := s.db.SelectContext(ctx, &rows, `SELECT i.slug, a.slug AS blocker
		FROM short_links i
		JOIN LATERAL (
			SELECT o.slug FROM short_links o
			WHERE o.is_active AND o.id <> i.id
			  AND o.destination_hash = i.destination_hash AND o.link_type = i.link_type
			  AND o.destination_url = i.destination_url
			ORDER BY o.created_at, o.id
			LIMIT 1) a ON true
		WHERE i.slug = ANY($1) AND NOT i.is_active`, pq.Array(slugs))
	if err != nil {
		return nil, fmt.Errorf("store: active links blocking reactivation: %w", classify(err))
	}
	for _, r := range rows {
		out[r.Slug] = r.Blocker
	}
	return out, nil
}
