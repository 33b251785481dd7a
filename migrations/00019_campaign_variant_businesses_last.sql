-- +goose NO TRANSACTION
-- +goose Up
-- When each business last got a send of each variant, and the latest send
-- of it that was tapped, so results windows ending now count "businesses
-- sent to" and "businesses that clicked" from the hour rollup (00018's
-- *_last columns) plus one index range over the window's first hour,
-- instead of grouping every send of the window. RecordSend and the click
-- flush keep them (GREATEST, so the backfill below and the live writers
-- commute). prev_sent_at and prev_clicked_at hold the value before the
-- latest change, for the statement making it to read back (PostgreSQL 15
-- has no OLD in RETURNING): that is how it moves a business between hours.
-- +goose StatementBegin
DO $$
BEGIN
    SET LOCAL lock_timeout = '5s';
    ALTER TABLE campaign_variant_businesses
        ADD COLUMN IF NOT EXISTS last_sent_at timestamptz,
        ADD COLUMN IF NOT EXISTS last_clicked_at timestamptz,
        ADD COLUMN IF NOT EXISTS prev_sent_at timestamptz,
        ADD COLUMN IF NOT EXISTS prev_clicked_at timestamptz;
END
$$;
-- +goose StatementEnd

-- Backfill from the sends, 5,000 (variant, business) rows per transaction,
-- locking them in key order as the flush does.
-- +goose StatementBegin
DO $$
DECLARE
    after_variant  text := '';
    after_business uuid := '00000000-0000-0000-0000-000000000000';
    n              int;
BEGIN
    LOOP
        WITH batch AS (
            SELECT vb.variant, vb.business_id FROM campaign_variant_businesses vb
            WHERE (vb.variant, vb.business_id) > (after_variant, after_business)
            ORDER BY vb.variant, vb.business_id
            LIMIT 5000
            FOR NO KEY UPDATE
        ), last AS (
            SELECT b.variant, b.business_id, max(c.sent_at) AS sent_at,
                   max(c.sent_at) FILTER (WHERE c.clicks > 0) AS clicked_at
            FROM batch b JOIN campaign_sends c ON c.business_id = b.business_id AND c.variant = b.variant
            GROUP BY b.variant, b.business_id
        ), updated AS (
            UPDATE campaign_variant_businesses vb
            SET last_sent_at = GREATEST(vb.last_sent_at, l.sent_at),
                last_clicked_at = GREATEST(vb.last_clicked_at, l.clicked_at)
            FROM last l
            WHERE vb.variant = l.variant AND vb.business_id = l.business_id
        )
        SELECT count(*), max(variant), (array_agg(business_id ORDER BY variant DESC, business_id DESC))[1]
        INTO n, after_variant, after_business
        FROM batch;
        EXIT WHEN n = 0;
        COMMIT;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- Each business in the hour of its latest send and latest tapped send. One
-- statement over campaign_variant_businesses, writing a few rows per
-- variant per hour; as with 00018, instances running older code must be
-- stopped (they do not keep these columns).
UPDATE campaign_variant_hours d
SET businesses_sent_last = COALESCE(x.sent, 0), businesses_clicked_last = COALESCE(x.clicked, 0)
FROM (
    SELECT variant, hour, SUM(sent) AS sent, SUM(clicked) AS clicked FROM (
        SELECT variant, date_trunc('hour', last_sent_at, 'UTC') AS hour, 1 AS sent, 0 AS clicked
        FROM campaign_variant_businesses WHERE last_sent_at IS NOT NULL
        UNION ALL
        SELECT variant, date_trunc('hour', last_clicked_at, 'UTC'), 0, 1
        FROM campaign_variant_businesses WHERE last_clicked_at IS NOT NULL
    ) u GROUP BY variant, hour
) x
WHERE d.variant = x.variant AND d.hour = x.hour;

CREATE INDEX CONCURRENTLY IF NOT EXISTS campaign_variant_businesses_sent_idx
    ON campaign_variant_businesses (variant, last_sent_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS campaign_variant_businesses_clicked_idx
    ON campaign_variant_businesses (variant, last_clicked_at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS campaign_variant_businesses_clicked_idx;
DROP INDEX CONCURRENTLY IF EXISTS campaign_variant_businesses_sent_idx;
ALTER TABLE campaign_variant_businesses DROP COLUMN IF EXISTS last_clicked_at, DROP COLUMN IF EXISTS last_sent_at,
    DROP COLUMN IF EXISTS prev_clicked_at, DROP COLUMN IF EXISTS prev_sent_at;
UPDATE campaign_variant_hours SET businesses_sent_last = 0, businesses_clicked_last = 0;
