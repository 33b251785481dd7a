-- +goose NO TRANSACTION
-- +goose Up
-- A business name search (issue 21) finds the named businesses first
-- (businesses_search_text_idx, 1M rows) and their links by
-- short_links_business_id_idx; what is left to find is the links whose
-- destination holds the text. The whole search_text index cannot answer
-- that cheaply: a name of common words ("rosas bakery express") intersects
-- posting lists of every link of every business with one of its words
-- (10M links: 180–330 ms). This one indexes the destination part alone:
-- the text before the first " | " (00022; a normalised destination holds
-- only letters, digits and single spaces, never "|"). split_part is
-- IMMUTABLE, so the expression is indexable. Built concurrently: writes go
-- on; a build that fails leaves an INVALID index, which the migrator drops
-- before the rerun (Migrator.dropInvalidLeftovers).
SET lock_timeout = '500ms';
SET statement_timeout = '1h';
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_search_url_idx
    ON short_links USING gin (split_part(search_text, ' | ', 1) gin_trgm_ops);
-- +goose StatementEnd
RESET lock_timeout;
RESET statement_timeout;
-- +goose Down
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS short_links_search_url_idx;
-- +goose StatementEnd
