-- +goose Up
-- The fix for duplicate links: at most one active link per (destination,
-- link type), enforced by the database. Works on a database that already
-- holds duplicates: it heals them first, keeping the oldest.

-- Block concurrent writers between the heal and the index build, so no new
-- duplicate can slip in after the UPDATE has looked (readers still proceed).
LOCK TABLE short_links IN SHARE ROW EXCLUSIVE MODE;

-- Keep the oldest active link of each group; the others become history.
WITH ranked AS (
    SELECT id,
           row_number() OVER (PARTITION BY destination_url, link_type
                              ORDER BY created_at, id) AS rank
    FROM short_links
    WHERE is_active
)
UPDATE short_links AS l
SET is_active = false, updated_at = clock_timestamp()
FROM ranked
WHERE l.id = ranked.id AND ranked.rank > 1;

-- The arbiter that GetOrCreateLink's ON CONFLICT names.
CREATE UNIQUE INDEX short_links_one_active_idx
    ON short_links (destination_hash, link_type)
    WHERE is_active;

-- +goose Down
-- Only the guarantee is removed; healed links stay inactive (they are history).
DROP INDEX short_links_one_active_idx;
