-- +goose NO TRANSACTION
-- +goose Up
-- The indexes behind every search of the listings (db/search.go says which
-- search uses which). Built concurrently: writes go on during the build. A
-- build that fails leaves an INVALID index: drop it and rerun.

-- Fragments of a destination, a business name or a city (normalised, see
-- 00022). The planner uses it when the fragment is rare; a common word
-- ("bakery", "menu") is served by walking the listing's order instead.
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_search_text_idx
    ON short_links USING gin (search_text gin_trgm_ops);
-- +goose StatementEnd
-- A slug search is a prefix search (any case): a btree range.
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_slug_prefix_idx
    ON short_links (lower(slug) text_pattern_ops);
-- +goose StatementEnd
-- A domain search: the reversed host is one btree prefix for a domain and
-- its subdomains, however many URLs share "https://www." or a common word.
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_host_idx
    ON short_links (short_links_host_key(destination_url) text_pattern_ops);
-- +goose StatementEnd
-- Campaign search on a business's name or city (normalised).
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS businesses_search_text_idx
    ON businesses USING gin (search_text gin_trgm_ops);
-- +goose StatementEnd

-- The trigram indexes of 00005 searched the raw text; nothing reads them
-- now, and every write of a link paid for the one on destination_url.
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS short_links_search_idx;
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS businesses_search_idx;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS businesses_search_idx
    ON businesses USING gin (name gin_trgm_ops, city gin_trgm_ops);
-- +goose StatementEnd
-- +goose StatementBegin
CREATE INDEX CONCURRENTLY IF NOT EXISTS short_links_search_idx
    ON short_links USING gin (slug gin_trgm_ops, destination_url gin_trgm_ops);
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS businesses_search_text_idx;
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS short_links_host_idx;
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS short_links_slug_prefix_idx;
-- +goose StatementEnd
-- +goose StatementBegin
DROP INDEX CONCURRENTLY IF EXISTS short_links_search_text_idx;
-- +goose StatementEnd
