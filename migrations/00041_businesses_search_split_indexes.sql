-- +goose NO TRANSACTION
-- +goose Up
-- A campaign search that must sort its matches (db/campaigns.go
-- searchCampaignBusinesses) reads them in two exact parts: the businesses
-- whose search_text (normalised name, then city) starts with the search,
-- and those that hold it further in. Names cluster by their first word, so
-- a search for an owner's name ("rosas": 22,000 businesses at 1M, all
-- sorting near the end) is nearly all first part: a btree range that
-- covers the name, read without the table, instead of a visit to the
-- table for each of the trigram index's matches. The second part is a
-- trigram index on the text from its second character, which a text
-- starting with the search matches only if it holds the search again.
-- Built concurrently: writes go on; a build that fails leaves an INVALID
-- index, which the migrator drops before the rerun
-- (Migrator.dropInvalidLeftovers).
SET lock_timeout = '500ms';
SET statement_timeout = '1h';
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS businesses_search_prefix_idx
    ON businesses (status, search_text text_pattern_ops) INCLUDE (name, id);
-- +goose StatementEnd
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS businesses_search_rest_idx
    ON businesses USING gin (substr(search_text, 2) gin_trgm_ops);
-- +goose StatementEnd
RESET lock_timeout;
RESET statement_timeout;
-- +goose Down
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS businesses_search_rest_idx;
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS businesses_search_prefix_idx;
-- +goose StatementEnd
