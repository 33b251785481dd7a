-- +goose NO TRANSACTION
-- +goose Up
-- A link search that names businesses (db/search.go namedBusinesses: "rosas
-- bakery", a name's words in a rare combination) lists those businesses'
-- links newest first. It read every one of them from the table to sort
-- them: at 10M links, 627 businesses' 6,270 links cost 6,000 random table
-- pages (about 40 ms warm, and twice that with their counts). Keyed by
-- business, then creation time and id, the index gives each link's sort
-- key without the table (db/listing.go listLinks: 15 ms for the 6,270), so
-- only the page's rows are read. It replaces short_links_business_id_idx,
-- whose every use (a business's links, the foreign key's checks) it serves
-- as well. Built concurrently: writes go on; a build that fails leaves an
-- INVALID index, which the migrator drops before the rerun
-- (Migrator.dropInvalidLeftovers).
SET lock_timeout = '500ms';
SET statement_timeout = '1h';
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_business_created_idx
    ON short_links (business_id, created_at, id);
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS short_links_business_id_idx;
-- +goose StatementEnd
RESET lock_timeout;
RESET statement_timeout;
-- +goose Down
SET lock_timeout = '500ms';
SET statement_timeout = '1h';
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_business_id_idx ON short_links (business_id);
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS short_links_business_created_idx;
-- +goose StatementEnd
RESET lock_timeout;
RESET statement_timeout;
