-- +goose NO TRANSACTION
-- +goose Up
-- Copy the counts of the links that existed before 00015 into
-- link_counters, 10,000 links per transaction (each commits on its own),
-- so no lock is held long and a 10M-link table is never rewritten. Links
-- created meanwhile got their row from 00015's trigger; a row already
-- there is left alone (ON CONFLICT DO NOTHING), since the trigger has
-- already carried every later change into it.
-- +goose StatementBegin
DO $$
DECLARE
    lo  bigint := 0;
    top bigint;
BEGIN
    SELECT COALESCE(max(id), 0) INTO top FROM short_links;
    WHILE lo < top LOOP
        INSERT INTO link_counters (link_id, click_count, preview_count, forwarded_clicks)
        SELECT id, click_count, preview_count, forwarded_clicks
        FROM short_links WHERE id > lo AND id <= lo + 10000
        ON CONFLICT (link_id) DO NOTHING;
        lo := lo + 10000;
        COMMIT;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- The old sort indexes on short_links.click_count are dead weight now
-- (nothing sorts or filters on that column): every link insert paid for them.
DROP INDEX CONCURRENTLY IF EXISTS short_links_clicks_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS short_links_inactive_clicks_id_idx;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_inactive_clicks_id_idx ON short_links (click_count, id) WHERE NOT is_active;
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_clicks_id_idx ON short_links (click_count, id);
