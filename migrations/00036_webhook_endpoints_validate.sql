-- +goose Up
-- 00035 added these NOT VALID; validating takes only a SHARE UPDATE
-- EXCLUSIVE lock, so deliveries keep flowing while the rows are checked.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';
ALTER TABLE webhook_endpoints VALIDATE CONSTRAINT webhook_endpoints_source_check;
ALTER TABLE webhook_endpoints VALIDATE CONSTRAINT webhook_endpoints_secret_check;

-- +goose Down
-- A validated constraint stays valid; 00035's Down drops it.
SELECT 1;
