-- +goose Up
-- The fix for duplicate links, one active link per (destination, link type)
-- enforced by the database, used to heal and build the unique index here,
-- under a lock that stopped every write for the whole heal (7.7 s at 2M
-- links). Both now happen online in 00012_heal_online.sql, once the
-- superseded_by column (00007) and the heal's own tables (00011) exist:
-- the heal runs in small batches and the index is built CONCURRENTLY.
-- Until then get-or-create keeps the guarantee with an advisory lock
-- (db/links_degraded.go), so creating links works throughout an upgrade.
-- The schema after `migrate up` is unchanged (migrations/schema_test.go).
SELECT 1;

-- +goose Down
-- 00012's Down drops the index.
SELECT 1;
