-- +goose NO TRANSACTION
-- +goose Up
-- Built concurrently (no write lock on big tables). A build that fails
-- leaves an INVALID index: drop it and rerun the migration. A short
-- lock_timeout, as 00019: a build that would queue behind a long
-- transaction gives up instead of stalling writes; rerun it.
SET lock_timeout = '500ms';
SET statement_timeout = '1h';

-- Re-imports match rows by external_id (the upsert's arbiter) ...
-- +goose StatementBegin
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS businesses_external_id_key
    ON businesses (external_id) WHERE external_id IS NOT NULL;
-- +goose StatementEnd
-- ... or, without one, by phone; the manual-add warning looks phones up too.
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS businesses_phone_idx
    ON businesses (phone) WHERE phone <> '';
-- +goose StatementEnd
-- GET /api/v1/businesses pages by (name, id) whatever the listing status.
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS businesses_name_id_idx ON businesses (name, id);
-- +goose StatementEnd
-- The follow-up view: sends that were tapped, newest first tap first.
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS campaign_sends_first_clicked_idx
    ON campaign_sends (first_clicked_at DESC, id DESC)
    WHERE first_clicked_at IS NOT NULL AND voided_at IS NULL;
-- +goose StatementEnd
RESET lock_timeout;
RESET statement_timeout;

-- +goose Down
SET lock_timeout = '500ms';
SET statement_timeout = '1h';
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS businesses_name_id_idx;
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS campaign_sends_first_clicked_idx;
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS businesses_phone_idx;
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS businesses_external_id_key;
-- +goose StatementEnd
RESET lock_timeout;
RESET statement_timeout;
