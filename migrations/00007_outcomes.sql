-- +goose Up
-- Outcomes: superseded links keep redirecting, sends are recorded once per
-- idempotency key, and clicks are attributed to the send they answer.

-- A healed duplicate records the link it was merged into. Its slug then
-- redirects through that link, and its taps are counted there, while its
-- own click_count stays as it was at the merge; forwarded_clicks counts the
-- taps it passed on since. ON DELETE SET NULL: a survivor deleted by hand
-- leaves its duplicates retired (410), never dangling.
ALTER TABLE short_links
    ADD COLUMN superseded_by bigint REFERENCES short_links (id) ON DELETE SET NULL,
    ADD COLUMN forwarded_clicks bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT short_links_superseded_inactive CHECK (superseded_by IS NULL OR NOT is_active);
-- The change trigger and the heal look up "links superseded by X".
CREATE INDEX short_links_superseded_by_idx ON short_links (superseded_by) WHERE superseded_by IS NOT NULL;

-- Backfill. Migration 00004 deactivated duplicates without saying so, and
-- an admin's deactivation looked the same, so every inactive link whose
-- (destination, link type) has an active link is taken for a healed
-- duplicate of it. An admin can retire any of them afterwards.
UPDATE short_links AS h
SET superseded_by = a.id
FROM short_links AS a
WHERE NOT h.is_active AND a.is_active
  AND a.destination_hash = h.destination_hash AND a.link_type = h.link_type
  AND a.destination_url = h.destination_url;

-- The change feed (00002) now also reaches the slugs that redirect through
-- a link: when a survivor is retired, re-pointed or deleted, every redirect
-- cache drops the links superseded by it too, so they answer 410 at once.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION short_links_notify_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('short_links_changed', OLD.slug);
        PERFORM pg_notify('short_links_changed', d.slug)
        FROM short_links d WHERE d.superseded_by = OLD.id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.slug <> OLD.slug) THEN
        PERFORM pg_notify('short_links_changed', NEW.slug);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- Setting or clearing superseded_by changes what a slug answers, so it
-- fires the trigger too (click flushes still do not).
DROP TRIGGER short_links_notify_update ON short_links;
CREATE TRIGGER short_links_notify_update
    AFTER UPDATE OF is_active, destination_url, slug, superseded_by ON short_links
    FOR EACH ROW
    WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active
          OR OLD.destination_url IS DISTINCT FROM NEW.destination_url
          OR OLD.slug IS DISTINCT FROM NEW.slug
          OR OLD.superseded_by IS DISTINCT FROM NEW.superseded_by)
    EXECUTE FUNCTION short_links_notify_change();

-- Businesses sharing a site URL share its link; finding them from a link
-- goes through this index (the same hash as short_links.destination_hash).
CREATE INDEX sites_url_hash_idx ON sites (short_links_url_hash(url));

-- One key space for every endpoint that takes an Idempotency-Key. The
-- primary key is what makes a key count once: the first INSERT wins, every
-- other request with the key reads the winner's resource. request_hash is a
-- SHA-256 of the canonical request (endpoint and body), so the same key
-- with another request is recognised and refused.
CREATE TABLE idempotency_keys (
    key          text PRIMARY KEY CHECK (key ~ '^[\x20-\x7e]{1,255}$'),
    request_hash bytea NOT NULL,
    resource     text NOT NULL,
    resource_id  text NOT NULL, -- a UUID (a send's or a business's id)
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A campaign SMS sent to a business: the message exactly as previewed.
-- clicks is the attribution counter that the click flush adds to (so the
-- results never scan clicks).
CREATE TABLE campaign_sends (
    id             uuid PRIMARY KEY,
    business_id    uuid NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    variant        text NOT NULL,
    message        text NOT NULL,
    link_id        bigint NOT NULL REFERENCES short_links (id),
    slug           text NOT NULL,
    short_url      text NOT NULL,
    encoding       text NOT NULL,
    segments       integer NOT NULL CHECK (segments >= 0),
    cost_micros    bigint NOT NULL CHECK (cost_micros >= 0),
    currency       text NOT NULL,
    sent_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    clicks         bigint NOT NULL DEFAULT 0
);
-- "Latest send of a business at or before t" (attribution, listings) and
-- of a link, both as one backward index scan.
CREATE INDEX campaign_sends_business_sent_idx ON campaign_sends (business_id, sent_at DESC, id DESC);
CREATE INDEX campaign_sends_link_sent_idx ON campaign_sends (link_id, sent_at DESC, id DESC);
-- Results restricted by since/until.
CREATE INDEX campaign_sends_sent_at_idx ON campaign_sends (sent_at);

-- Per-variant totals, kept by the statements that insert sends and flush
-- clicks, so the unrestricted results read three rows whatever the number
-- of sends. campaign_variant_businesses is one row per (variant, business)
-- so "businesses sent to" and "businesses that clicked" are counted once.
CREATE TABLE campaign_variant_businesses (
    variant     text NOT NULL,
    business_id uuid NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    clicks      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (variant, business_id)
);
CREATE TABLE campaign_variant_totals (
    variant            text PRIMARY KEY,
    sends              bigint NOT NULL DEFAULT 0,
    businesses_sent    bigint NOT NULL DEFAULT 0,
    businesses_clicked bigint NOT NULL DEFAULT 0,
    clicks             bigint NOT NULL DEFAULT 0,
    segments           bigint NOT NULL DEFAULT 0,
    cost_micros        bigint NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE campaign_variant_totals;
DROP TABLE campaign_variant_businesses;
DROP TABLE campaign_sends;
DROP TABLE idempotency_keys;
DROP INDEX sites_url_hash_idx;
DROP TRIGGER short_links_notify_update ON short_links;
CREATE TRIGGER short_links_notify_update
    AFTER UPDATE OF is_active, destination_url, slug ON short_links
    FOR EACH ROW
    WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active
          OR OLD.destination_url IS DISTINCT FROM NEW.destination_url
          OR OLD.slug IS DISTINCT FROM NEW.slug)
    EXECUTE FUNCTION short_links_notify_change();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION short_links_notify_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('short_links_changed', OLD.slug);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.slug <> OLD.slug) THEN
        PERFORM pg_notify('short_links_changed', NEW.slug);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
DROP INDEX short_links_superseded_by_idx;
ALTER TABLE short_links
    DROP CONSTRAINT short_links_superseded_inactive,
    DROP COLUMN forwarded_clicks,
    DROP COLUMN superseded_by;
