-- +goose Up
-- A strong lock (a trigger on short_links) is waited for at most 500 ms;
-- migrations.Migrator then retries the file (it runs in one transaction).
SET LOCAL lock_timeout = '500ms';
SET LOCAL statement_timeout = '10min';
-- Running totals of every link's clicks and previews, so the Shlink visits
-- overview reads a few rows instead of summing short_links. The click flush
-- adds its applied counts here in the same statement that adds them to the
-- links, so the totals stay exact and a replayed batch adds nothing.
-- Sharded (the flush picks a shard from its batch ID) so instances flushing
-- at the same moment do not queue on one row; the reader sums the shards.
CREATE TABLE traffic_totals (
    shard    smallint PRIMARY KEY,
    clicks   bigint NOT NULL DEFAULT 0,
    previews bigint NOT NULL DEFAULT 0
);

-- 16 shards: db.trafficShards must match.
INSERT INTO traffic_totals (shard) SELECT generate_series(0, 15);

-- Backfill what earlier flushes counted. Instances running code older than
-- this migration do not add to the totals: run migrate before starting the
-- new instances and stop the old ones (as with every migration here).
UPDATE traffic_totals SET
    clicks = (SELECT COALESCE(SUM(click_count), 0) FROM short_links),
    previews = (SELECT COALESCE(SUM(preview_count), 0) FROM short_links)
WHERE shard = 0;

-- +goose Down
SET LOCAL lock_timeout = '500ms';
-- squawk-ignore ban-drop-table
DROP TABLE traffic_totals;
