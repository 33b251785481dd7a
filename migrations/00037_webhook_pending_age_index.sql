-- +goose NO TRANSACTION
-- +goose Up
-- The age of each endpoint's oldest waiting delivery, for /metrics
-- (shortlinks_webhook_oldest_pending_seconds, read every 30 s): one index
-- probe per endpoint instead of a scan of its backlog. Built concurrently:
-- deliveries keep being written meanwhile.
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_deliveries_pending_created_idx
    ON webhook_deliveries (endpoint_id, created_at) WHERE state = 'pending';

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_pending_created_idx;
