-- +goose Up
-- Listings that stay instant at millions of links: every offered order and
-- filter has an index that a keyset ("after this row") page walks for at
-- most a page's worth of rows, and search uses trigrams instead of reading
-- every destination. pg_trgm ships with PostgreSQL and is a trusted
-- extension, so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Orders: newest/oldest and most/fewest clicks, id breaking ties (the
-- cursor carries both). They replace the plain created_at index.
DROP INDEX short_links_created_at_idx;
CREATE INDEX short_links_created_id_idx ON short_links (created_at, id);
CREATE INDEX short_links_clicks_id_idx ON short_links (click_count, id);
-- The type filter: a type with few links is found without walking the
-- whole order, and counted without reading the table.
CREATE INDEX short_links_type_created_id_idx ON short_links (link_type, created_at, id);
-- The "inactive only" filter; small (inactive links are the minority and
-- are not clicked, so click flushes rarely touch them).
CREATE INDEX short_links_inactive_created_id_idx ON short_links (created_at, id) WHERE NOT is_active;
CREATE INDEX short_links_inactive_clicks_id_idx ON short_links (click_count, id) WHERE NOT is_active;
-- q= is a substring of the slug or the destination: ILIKE '%…%' uses this.
CREATE INDEX short_links_search_idx ON short_links
    USING gin (slug gin_trgm_ops, destination_url gin_trgm_ops);
-- The background duplicate check counts active and inactive links per
-- (destination, type) from this index alone (an index-only scan in key
-- order: no sort, no hash table, no table read). Same keys as before, so
-- lookups by destination use it as they did.
DROP INDEX short_links_destination_idx;
CREATE INDEX short_links_destination_idx ON short_links (destination_hash, link_type) INCLUDE (is_active);

-- Campaign listing: keyset by (name, id) among ready businesses, and
-- q= on the name or the city.
DROP INDEX businesses_status_name_idx;
CREATE INDEX businesses_status_name_id_idx ON businesses (status, name, id);
CREATE INDEX businesses_search_idx ON businesses
    USING gin (name gin_trgm_ops, city gin_trgm_ops);

-- Results of the full duplicate check. The check runs in the background on
-- one instance at a time; every instance's dashboard, JSON and gauges read
-- the latest row, so they cost one index probe and all agree. Old rows are
-- pruned by the check itself.
CREATE TABLE duplicate_checks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    duplicate_groups bigint NOT NULL,
    duplicate_links  bigint NOT NULL,
    active_links     bigint NOT NULL,
    inactive_links   bigint NOT NULL,
    history_links    bigint NOT NULL,
    groups           jsonb NOT NULL DEFAULT '[]' -- the largest 100 groups
);

-- +goose Down
DROP TABLE duplicate_checks;
DROP INDEX businesses_search_idx;
DROP INDEX businesses_status_name_id_idx;
CREATE INDEX businesses_status_name_idx ON businesses (status, name);
DROP INDEX short_links_destination_idx;
CREATE INDEX short_links_destination_idx ON short_links (destination_hash, link_type);
DROP INDEX short_links_search_idx;
DROP INDEX short_links_inactive_clicks_id_idx;
DROP INDEX short_links_inactive_created_id_idx;
DROP INDEX short_links_type_created_id_idx;
DROP INDEX short_links_clicks_id_idx;
DROP INDEX short_links_created_id_idx;
CREATE INDEX short_links_created_at_idx ON short_links (created_at);
-- pg_trgm stays: another schema object may use it, and it costs nothing.
