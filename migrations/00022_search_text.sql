-- +goose Up
-- Search that finds what people type (issues 20 and 21): searches ignore
-- case, accents and punctuation ("rosas" finds "Rosa's Bakery", "cafe"
-- finds "Café Luna"), and the links search also matches the business's
-- name and city. unaccent() is not IMMUTABLE (its dictionary can change),
-- so no index is built on an expression calling it: a plain column holds
-- the normalised text, kept by triggers, backfilled in batches (00023) and
-- indexed concurrently (00024). Only catalog changes here (nullable columns
-- without a default, functions, triggers): no table is rewritten, and
-- lock_timeout keeps the brief ACCESS EXCLUSIVE locks from queueing behind
-- a long transaction (goose runs this file in one transaction; rerun it if
-- it times out). unaccent ships with PostgreSQL (Debian's server package
-- includes the contrib modules) and is trusted, as pg_trgm is.
SET LOCAL lock_timeout = '3s';
CREATE EXTENSION IF NOT EXISTS unaccent;

-- The one normalisation for stored text and search text alike: accents
-- and case folded, apostrophes dropped (Rosa's → rosas), every other run
-- of punctuation or spaces one space. The result holds only letters,
-- digits and single spaces, so it never contains a LIKE wildcard. The
-- search_path is fixed at creation so unaccent and its dictionary are
-- found whatever the caller's path.
-- +goose StatementBegin
CREATE FUNCTION search_normalize(t text) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path FROM CURRENT
    AS $$ SELECT btrim(regexp_replace(regexp_replace(lower(unaccent(t)), '[''’‘`´ʼ]', '', 'g'),
                                      '[^[:alnum:]]+', ' ', 'g')) $$;
-- +goose StatementEnd

-- A destination as searched: without its scheme and a leading "www.",
-- which nearly every URL shares and nobody searches for.
-- +goose StatementBegin
CREATE FUNCTION search_normalize_url(url text) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path FROM CURRENT
    AS $$ SELECT search_normalize(regexp_replace(url, '^[A-Za-z][A-Za-z0-9+.-]*://(www\.)?', '')) $$;
-- +goose StatementEnd

-- A link's search text: its destination, its business's name, its city,
-- separated by " | " so a search never matches across two of them.
-- +goose StatementBegin
CREATE FUNCTION short_links_search_text(url text, business_name text, city text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path FROM CURRENT
    AS $$ SELECT concat_ws(' | ', search_normalize_url(url), search_normalize(business_name), search_normalize(city)) $$;
-- +goose StatementEnd

-- The domain key of a destination: its host without a leading "www.",
-- reversed character by character ("https://www.rosas.com/x" →
-- "moc.sasor"), so a domain and its subdomains are one prefix of a btree
-- ("moc.sasor" and "moc.sasor.%" find rosas.com and shop.rosas.com). Only
-- IMMUTABLE string functions: it is indexed as an expression (00024).
-- lower() is IMMUTABLE too; stored hosts are lowercase already (urlpolicy).
-- +goose StatementBegin
CREATE FUNCTION short_links_host_key(url text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT reverse(regexp_replace(lower(substring(url from '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#:]*)')), '^www\.', '')) $$;
-- +goose StatementEnd

ALTER TABLE short_links ADD COLUMN search_text text;
ALTER TABLE businesses ADD COLUMN search_text text;
-- The planner estimates "contains" from the column's histogram; with 1,000
-- entries rather than 100 it tells a word in 5% of rows from one in 2%
-- (measured: "cafe" 4,040 estimated, 9,897 real at the default; 10,160
-- with 1,000), and db.sortsAllMatches decides on that estimate.
ALTER TABLE short_links ALTER COLUMN search_text SET STATISTICS 1000;
ALTER TABLE businesses ALTER COLUMN search_text SET STATISTICS 1000;

-- +goose StatementBegin
CREATE FUNCTION businesses_set_search_text() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := concat_ws(' | ', search_normalize(NEW.name), search_normalize(NEW.city));
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER businesses_search_text
    BEFORE INSERT OR UPDATE OF name, city ON businesses
    FOR EACH ROW EXECUTE FUNCTION businesses_set_search_text();

-- +goose StatementBegin
CREATE FUNCTION short_links_set_search_text() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    b_name text;
    b_city text;
BEGIN
    IF NEW.business_id IS NOT NULL THEN
        SELECT name, city INTO b_name, b_city FROM businesses WHERE id = NEW.business_id;
    END IF;
    NEW.search_text := short_links_search_text(NEW.destination_url, b_name, b_city);
    RETURN NEW;
END
$$;
-- +goose StatementEnd
-- Only when what the text is made of changes: click flushes do not fire it.
CREATE TRIGGER short_links_search_text
    BEFORE INSERT OR UPDATE OF destination_url, business_id ON short_links
    FOR EACH ROW EXECUTE FUNCTION short_links_set_search_text();

-- A renamed (or moved) business carries its links' search text along: an
-- index probe of short_links_business_id_idx and a few rows.
-- +goose StatementBegin
CREATE FUNCTION businesses_propagate_search_text() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE short_links
    SET search_text = short_links_search_text(destination_url, NEW.name, NEW.city)
    WHERE business_id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER businesses_propagate_search_text
    AFTER UPDATE OF name, city ON businesses
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.city IS DISTINCT FROM NEW.city)
    EXECUTE FUNCTION businesses_propagate_search_text();

-- +goose Down
SET LOCAL lock_timeout = '3s';
DROP TRIGGER businesses_propagate_search_text ON businesses;
DROP FUNCTION businesses_propagate_search_text();
DROP TRIGGER short_links_search_text ON short_links;
DROP FUNCTION short_links_set_search_text();
DROP TRIGGER businesses_search_text ON businesses;
DROP FUNCTION businesses_set_search_text();
ALTER TABLE businesses DROP COLUMN search_text;
ALTER TABLE short_links DROP COLUMN search_text;
DROP FUNCTION short_links_host_key(text);
DROP FUNCTION short_links_search_text(text, text, text);
DROP FUNCTION search_normalize_url(text);
DROP FUNCTION search_normalize(text);
-- unaccent stays: another schema object may use it, and it costs nothing.
