-- +goose NO TRANSACTION
-- +goose Up
-- The age of each endpoint's oldest waiting delivery, for /metrics
-- (shortlinks_webhook_oldest_pending_seconds, read every 30 s): one index
-- probe per endpoint instead of a scan of its backlog. Built concurrently:
-- deliveries keep being written meanwhile.
SET lock_timeout = '500ms';
SET statement_timeout = '1h';
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_deliveries_pending_created_idx
    ON webhook_deliveries (endpoint_id, created_at) WHERE state = 'pending';
RESET lock_timeout;
RESET statement_timeout;

-- +goose Down
SET lock_timeout = '500ms';
SET statement_timeout = '1h';
DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_pending_created_idx;
RESET lock_timeout;
RESET statement_timeout;
