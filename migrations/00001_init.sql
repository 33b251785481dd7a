-- +goose Up
-- A strong lock (a trigger on short_links) is waited for at most 500 ms;
-- migrations.Migrator then retries the file (it runs in one transaction).
SET LOCAL lock_timeout = '500ms';
SET LOCAL statement_timeout = '1min';
-- Businesses that marketers reach out to, and the sites their links point at.
CREATE TABLE businesses (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL,
    city       text NOT NULL DEFAULT '',
    phone      text NOT NULL DEFAULT '',
    status     text NOT NULL DEFAULT 'ready_for_outreach',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX businesses_status_name_idx ON businesses (status, name);

CREATE TABLE sites (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    business_id uuid NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    url         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_business_id_idx ON sites (business_id);

-- A btree entry is limited to ~2.7 kB, so long destinations are compared
-- through a hash. convert_to() is only STABLE (it depends on the server
-- encoding, which never changes for a database), hence the IMMUTABLE wrapper
-- that a generated column requires.
CREATE FUNCTION short_links_url_hash(url text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT sha256(convert_to(url, 'UTF8')) $$;

CREATE TABLE short_links (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug             text NOT NULL,
    destination_url  text NOT NULL,
    destination_hash bytea NOT NULL GENERATED ALWAYS AS (short_links_url_hash(destination_url)) STORED,
    link_type        text NOT NULL DEFAULT 'site_preview',
    business_id      uuid REFERENCES businesses (id) ON DELETE SET NULL,
    site_id          uuid REFERENCES sites (id) ON DELETE SET NULL,
    is_active        boolean NOT NULL DEFAULT true,
    click_count      bigint NOT NULL DEFAULT 0,
    preview_count    bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT short_links_slug_key UNIQUE (slug)
);
-- Lookups of any link (active or history) for a destination.
CREATE INDEX short_links_destination_idx ON short_links (destination_hash, link_type);
CREATE INDEX short_links_business_id_idx ON short_links (business_id);
CREATE INDEX short_links_created_at_idx ON short_links (created_at);

-- Clicks and previews per link per day, for charts.
CREATE TABLE link_clicks_daily (
    link_id  bigint NOT NULL REFERENCES short_links (id) ON DELETE CASCADE,
    day      date NOT NULL,
    clicks   bigint NOT NULL DEFAULT 0,
    previews bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day)
);

-- +goose Down
SET LOCAL lock_timeout = '500ms';
-- squawk-ignore ban-drop-table
DROP TABLE link_clicks_daily;
-- squawk-ignore ban-drop-table
DROP TABLE short_links;
DROP FUNCTION short_links_url_hash(text);
-- squawk-ignore ban-drop-table
DROP TABLE sites;
-- squawk-ignore ban-drop-table
DROP TABLE businesses;
