-- +goose Up
-- Per-variant, per-hour totals of sends (by the UTC hour they were sent)
-- and of the clicks attributed to them, kept by RecordSend and the click
-- flush in the statements that change the sends, so a results window reads
-- at most one row per variant per hour (2,160 for 90 days), whatever the
-- number of sends or taps; hours rather than days so the part of a window
-- that is not whole rows (read from the sends) is under an hour, not up to
-- a day. businesses_sent_last (businesses_clicked_last) counts the
-- businesses whose latest send of the variant (latest tapped send) is in
-- that hour: a business had one in a window ending now exactly when its
-- latest is in it, so summing the window's rows counts each business once
-- (00019 adds those latest times and fills these two columns).
SET lock_timeout = '5s';
CREATE TABLE campaign_variant_hours (
    variant     text NOT NULL,
    hour        timestamptz NOT NULL, -- date_trunc('hour', sent_at, 'UTC')
    sends       bigint NOT NULL DEFAULT 0,
    segments    bigint NOT NULL DEFAULT 0,
    cost_micros bigint NOT NULL DEFAULT 0,
    clicks      bigint NOT NULL DEFAULT 0,
    businesses_sent_last    bigint NOT NULL DEFAULT 0,
    businesses_clicked_last bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (variant, hour)
);

-- Backfill from the sends so far, in this transaction: the table is new,
-- so no instance writes it before this commits, and the rows written are
-- a few per variant per hour (a read of campaign_sends, which takes no lock
-- that blocks sends or flushes). As with 00010, stop instances running
-- older code before migrating: their flushes would not add here.
INSERT INTO campaign_variant_hours (variant, hour, sends, segments, cost_micros, clicks)
SELECT variant, date_trunc('hour', sent_at, 'UTC'), COUNT(*), SUM(segments), SUM(cost_micros), SUM(clicks)
FROM campaign_sends
GROUP BY 1, 2;

-- +goose Down
DROP TABLE campaign_variant_hours;
