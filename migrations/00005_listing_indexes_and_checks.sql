-- +goose NO TRANSACTION
-- +goose Up
-- Listings that stay instant at millions of links: every offered order and
-- filter has an index that a keyset ("after this row") page walks for at
-- most a page's worth of rows, and search uses trigrams instead of reading
-- every destination. pg_trgm ships with PostgreSQL and is a trusted
-- extension, so the database owner may create it.
--
-- Online: every index is built and dropped CONCURRENTLY (no write waits for
-- it; a plain CREATE INDEX held click flushes for 54 s at 2M links), so this
-- file runs outside a transaction, one statement at a time, and every
-- statement may run again: migrations.Migrator retries the file when a lock
-- is not granted within lock_timeout, and a later `migrate up` re-runs it
-- after a crash. A concurrent build that was interrupted leaves an INVALID
-- index under its name, which IF NOT EXISTS would keep: the block below
-- first renames any such leftover to <name>_invalid, which is dropped.
SET lock_timeout = '500ms';
SET statement_timeout = '1h';

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- +goose StatementBegin
DO $$
DECLARE
    leftover text;
BEGIN
    FOR leftover IN
        SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE NOT i.indisvalid AND c.relnamespace = current_schema()::regnamespace
          AND c.relname IN ('short_links_created_id_idx', 'short_links_clicks_id_idx',
              'short_links_type_created_id_idx', 'short_links_inactive_created_id_idx',
              'short_links_inactive_clicks_id_idx', 'short_links_search_idx',
              'short_links_destination_next_idx', 'businesses_status_name_id_idx', 'businesses_search_idx')
    LOOP
        EXECUTE format('ALTER INDEX %I RENAME TO %I', leftover, leftover || '_invalid');
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP INDEX CONCURRENTLY IF EXISTS short_links_created_id_idx_invalid;
DROP INDEX CONCURRENTLY IF EXISTS short_links_clicks_id_idx_invalid;
DROP INDEX CONCURRENTLY IF EXISTS short_links_type_created_id_idx_invalid;
DROP INDEX CONCURRENTLY IF EXISTS short_links_inactive_created_id_idx_invalid;
DROP INDEX CONCURRENTLY IF EXISTS short_links_inactive_clicks_id_idx_invalid;
DROP INDEX CONCURRENTLY IF EXISTS short_links_search_idx_invalid;
DROP INDEX CONCURRENTLY IF EXISTS short_links_destination_next_idx_invalid;
DROP INDEX CONCURRENTLY IF EXISTS businesses_status_name_id_idx_invalid;
DROP INDEX CONCURRENTLY IF EXISTS businesses_search_idx_invalid;

-- Orders: newest/oldest and most/fewest clicks, id breaking ties (the
-- cursor carries both). They replace the plain created_at index.
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_created_id_idx ON short_links (created_at, id);
DROP INDEX CONCURRENTLY IF EXISTS short_links_created_at_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_clicks_id_idx ON short_links (click_count, id);
-- The type filter: a type with few links is found without walking the
-- whole order, and counted without reading the table.
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_type_created_id_idx ON short_links (link_type, created_at, id);
-- The "inactive only" filter; small (inactive links are the minority and
-- are not clicked, so click flushes rarely touch them).
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_inactive_created_id_idx ON short_links (created_at, id) WHERE NOT is_active;
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_inactive_clicks_id_idx ON short_links (click_count, id) WHERE NOT is_active;
-- q= is a substring of the slug or the destination: ILIKE '%…%' uses this.
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_search_idx ON short_links
    USING gin (slug gin_trgm_ops, destination_url gin_trgm_ops);
-- The background duplicate check counts active and inactive links per
-- (destination, type) from this index alone (an index-only scan in key
-- order: no sort, no hash table, no table read). Same keys as before, so
-- lookups by destination use it as they did. It replaces the index of the
-- same name: built under another name, then swapped in (a rename takes a
-- lock that neither reads nor writes wait for).
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_destination_next_idx ON short_links (destination_hash, link_type) INCLUDE (is_active);
DROP INDEX CONCURRENTLY IF EXISTS short_links_destination_idx;
ALTER INDEX short_links_destination_next_idx RENAME TO short_links_destination_idx;

-- Campaign listing: keyset by (name, id) among ready businesses, and
-- q= on the name or the city.
CREATE INDEX CONCURRENTLY IF NOT EXISTS businesses_status_name_id_idx ON businesses (status, name, id);
DROP INDEX CONCURRENTLY IF EXISTS businesses_status_name_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS businesses_search_idx ON businesses
    USING gin (name gin_trgm_ops, city gin_trgm_ops);

-- Results of the full duplicate check. The check runs in the background on
-- one instance at a time; every instance's dashboard, JSON and gauges read
-- the latest row, so they cost one index probe and all agree. Old rows are
-- pruned by the check itself.
CREATE TABLE IF NOT EXISTS duplicate_checks (
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

-- The session outlives this file (goose runs the next one on the same
-- connection).
RESET lock_timeout;
RESET statement_timeout;

-- +goose Down
SET lock_timeout = '500ms';
SET statement_timeout = '1h';
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS duplicate_checks;
DROP INDEX CONCURRENTLY IF EXISTS businesses_search_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS businesses_status_name_idx ON businesses (status, name);
DROP INDEX CONCURRENTLY IF EXISTS businesses_status_name_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS short_links_destination_next_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_destination_next_idx ON short_links (destination_hash, link_type);
DROP INDEX CONCURRENTLY IF EXISTS short_links_destination_idx;
ALTER INDEX short_links_destination_next_idx RENAME TO short_links_destination_idx;
DROP INDEX CONCURRENTLY IF EXISTS short_links_search_idx;
DROP INDEX CONCURRENTLY IF EXISTS short_links_inactive_clicks_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS short_links_inactive_created_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS short_links_type_created_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS short_links_clicks_id_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_created_at_idx ON short_links (created_at);
DROP INDEX CONCURRENTLY IF EXISTS short_links_created_id_idx;
-- pg_trgm stays: another schema object may use it, and it costs nothing.
RESET lock_timeout;
RESET statement_timeout;
