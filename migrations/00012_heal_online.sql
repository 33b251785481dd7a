-- +goose NO TRANSACTION
-- +goose Up
-- One active link per (destination, link type), enforced by the database
-- (it was 00004's job; see there). On a database that still holds
-- duplicates (an upgrade from version 3, a restore without indexes) the
-- online heal of 00011 merges them first, in batches that each commit, then
-- the partial unique index is built CONCURRENTLY: creates, redirects and
-- click flushes go on throughout. Every statement may run again (the
-- migrator retries after a lock timeout; a crashed `migrate up` is simply
-- run again): the heal resumes its unfinished run, and an INVALID index
-- left by an interrupted build is dropped and built again.
SET lock_timeout = '500ms';
SET statement_timeout = '1h';

-- One heal at a time across instances: a console heal in progress is
-- waited for. Session-level, released at the end of this file; a re-run
-- on the same connection after a failure does not take it twice.
SELECT pg_advisory_lock(x'73686f727468656c'::bigint)
WHERE NOT EXISTS (SELECT 1 FROM pg_locks
                  WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 1
                    AND classid = x'73686f72'::bigint::oid AND objid = x'7468656c'::bigint::oid);

-- +goose StatementBegin
DO $$
DECLARE
    run bigint;
BEGIN
    -- With the index in force, or no link at all, there is nothing to heal.
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.relname = 'short_links_one_active_idx' AND i.indisvalid
                 AND c.relnamespace = current_schema()::regnamespace)
       OR NOT EXISTS (SELECT 1 FROM short_links) THEN
        RETURN;
    END IF;
    run := heal_start('migration');
    COMMIT;
    WHILE heal_scan(run) LOOP
        COMMIT;
    END LOOP;
    WHILE heal_batch(run, 100) > 0 LOOP
        COMMIT;
    END LOOP;
    COMMIT;
END
$$;
-- +goose StatementEnd

-- A failed or interrupted concurrent build leaves an INVALID index, which
-- IF NOT EXISTS would keep: rename it away, drop it, build again.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.relname = 'short_links_one_active_idx' AND NOT i.indisvalid
                 AND c.relnamespace = current_schema()::regnamespace) THEN
        ALTER INDEX short_links_one_active_idx RENAME TO short_links_one_active_idx_invalid;
    END IF;
END
$$;
-- +goose StatementEnd
DROP INDEX CONCURRENTLY IF EXISTS short_links_one_active_idx_invalid;

-- The arbiter that GetOrCreateLink's ON CONFLICT names (db.UniqueIndexName).
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS short_links_one_active_idx
    ON short_links (destination_hash, link_type)
    WHERE is_active;

SELECT heal_finish(id, '') FROM heal_runs WHERE finished_at IS NULL AND state = 'indexing';
SELECT pg_advisory_unlock(x'73686f727468656c'::bigint);
RESET lock_timeout;
RESET statement_timeout;

-- +goose Down
-- Only the guarantee is removed; healed links stay inactive (they are history).
SET lock_timeout = '500ms';
DROP INDEX CONCURRENTLY IF EXISTS short_links_one_active_idx;
RESET lock_timeout;
