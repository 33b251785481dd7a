-- +goose NO TRANSACTION
-- +goose Up
-- Backfills the search text of rows written before 00022 (its triggers
-- keep every newer row), in batches that each commit: no long transaction
-- holds row locks or keeps VACUUM from cleaning up, and an interrupted run
-- resumes where it stopped (only rows still NULL are written). The
-- indexes come after (00024), so the backfill does not maintain them.
-- A DO block may COMMIT because this file runs outside a transaction.

-- Businesses by primary key, 5,000 at a time.
-- +goose StatementBegin
DO $$
DECLARE
    last uuid := '00000000-0000-0000-0000-000000000000';
    upto uuid;
BEGIN
    LOOP
        SELECT id INTO upto FROM (
            SELECT id FROM businesses WHERE id > last ORDER BY id LIMIT 5000) batch
        ORDER BY id DESC LIMIT 1;
        EXIT WHEN upto IS NULL;
        UPDATE businesses
        SET search_text = concat_ws(' | ', search_normalize(name), search_normalize(city))
        WHERE id > last AND id <= upto AND search_text IS NULL;
        last := upto;
        COMMIT;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- Links by id range, 10,000 ids at a time (ids are dense: an identity).
-- +goose StatementBegin
DO $$
DECLARE
    next_id bigint;
    top bigint;
BEGIN
    SELECT min(id), max(id) INTO next_id, top FROM short_links;
    WHILE next_id <= top LOOP
        UPDATE short_links l
        SET search_text = COALESCE(
                (SELECT short_links_search_text(l.destination_url, b.name, b.city)
                 FROM businesses b WHERE b.id = l.business_id),
                short_links_search_text(l.destination_url, NULL, NULL))
        WHERE l.id >= next_id AND l.id < next_id + 10000 AND l.search_text IS NULL;
        next_id := next_id + 10000;
        COMMIT;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- Nothing to undo: 00022's Down drops the columns.
SELECT 1;
