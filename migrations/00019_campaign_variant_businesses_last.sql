-- +goose NO TRANSACTION
-- +goose Up
-- When each business last got a send of each variant, and the latest send
-- of it that was tapped, so results windows ending now count "businesses
-- sent to" and "businesses that clicked" with one index range each
-- (businesses whose last send is in the window had one in it), instead of
-- grouping every send of the window. RecordSend and the click flush keep
-- them (GREATEST, so the backfill below and the live writers commute).
-- +goose StatementBegin
DO $$
BEGIN
    SET LOCAL lock_timeout = '5s';
    ALTER TABLE campaign_variant_businesses
        ADD COLUMN IF NOT EXISTS last_sent_at timestamptz,
        ADD COLUMN IF NOT EXISTS last_clicked_at timestamptz;
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

CREATE INDEX CONCURRENTLY IF NOT EXISTS campaign_variant_businesses_sent_idx
    ON campaign_variant_businesses (variant, last_sent_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS campaign_variant_businesses_clicked_idx
    ON campaign_variant_businesses (variant, last_clicked_at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS campaign_variant_businesses_clicked_idx;
DROP INDEX CONCURRENTLY IF EXISTS campaign_variant_businesses_sent_idx;
ALTER TABLE campaign_variant_businesses DROP COLUMN IF EXISTS last_clicked_at, DROP COLUMN IF EXISTS last_sent_at;
