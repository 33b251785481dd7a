-- +goose Up
-- A strong lock (a trigger on short_links) is waited for at most 500 ms;
-- migrations.Migrator then retries the file (it runs in one transaction).
SET LOCAL lock_timeout = '500ms';
SET LOCAL statement_timeout = '1min';
-- Every redirecting instance caches links by slug. This trigger tells all of
-- them, through NOTIFY, which slug changed, so a deactivation anywhere stops
-- redirects everywhere at once. A trigger (rather than the Go code that
-- changes links) also catches changes made by hand in psql. The payload is
-- the slug, the cache key. Click-count updates do not fire it: they set
-- neither is_active, destination_url nor slug, and firing on them would
-- flush hot links out of every cache once a second.
-- +goose StatementBegin
CREATE FUNCTION short_links_notify_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('short_links_changed', OLD.slug);
    END IF;
    -- An INSERT ends negative caching of a slug that used to be unknown; an
    -- UPDATE that renames a slug must reach both names.
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.slug <> OLD.slug) THEN
        PERFORM pg_notify('short_links_changed', NEW.slug);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER short_links_notify_insert_delete
    AFTER INSERT OR DELETE ON short_links
    FOR EACH ROW EXECUTE FUNCTION short_links_notify_change();

-- UPDATE OF keeps the trigger from running at all for click flushes; the
-- WHEN clause skips updates that set a column to the value it already had
-- (deactivating an inactive link).
CREATE TRIGGER short_links_notify_update
    AFTER UPDATE OF is_active, destination_url, slug ON short_links
    FOR EACH ROW
    WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active
          OR OLD.destination_url IS DISTINCT FROM NEW.destination_url
          OR OLD.slug IS DISTINCT FROM NEW.slug)
    EXECUTE FUNCTION short_links_notify_change();

-- One row per applied click flush. A flush inserts its batch id in the same
-- statement that adds its counts, so a retry of a flush whose commit outcome
-- was unknown (the connection broke) finds its id and adds nothing: clicks
-- are never counted twice. Rows older than a day are pruned; a batch is
-- retried within seconds, so a day is ample.
CREATE TABLE click_flushes (
    batch_id   uuid PRIMARY KEY,
    flushed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX click_flushes_flushed_at_idx ON click_flushes (flushed_at);

-- +goose Down
SET LOCAL lock_timeout = '500ms';
-- squawk-ignore ban-drop-table
DROP TABLE click_flushes;
DROP TRIGGER short_links_notify_update ON short_links;
DROP TRIGGER short_links_notify_insert_delete ON short_links;
DROP FUNCTION short_links_notify_change();
