-- +goose Up
-- Click and preview counts move off short_links into a narrow row of their
-- own. A click flush used to rewrite the wide short_links row of every
-- tapped link, and since click_count was indexed (for the most_clicks
-- sort) that was never a HOT update: every index of the table, the trigram
-- ones included, got a new entry per tapped link per flush. Now a flush
-- updates link_counters only (its primary key and one sort index), and
-- short_links is written only when a link itself changes.
--
-- short_links.click_count, preview_count and forwarded_clicks stay (dropping
-- them is a later, separate step) but nothing in the application reads or
-- writes them any more; the trigger below carries any write to them into
-- link_counters, so an instance still running older code during a rolling
-- deploy (or a hand-written UPDATE) loses nothing.
SET lock_timeout = '5s';

CREATE TABLE link_counters (
    link_id          bigint PRIMARY KEY REFERENCES short_links (id) ON DELETE CASCADE,
    click_count      bigint NOT NULL DEFAULT 0,
    preview_count    bigint NOT NULL DEFAULT 0,
    forwarded_clicks bigint NOT NULL DEFAULT 0
);
-- The most_clicks / fewest_clicks listings walk this index (id breaks ties).
CREATE INDEX link_counters_clicks_idx ON link_counters (click_count, link_id);

-- Every link has its counters row from the moment it exists, so a sort by
-- clicks walks one index and finds every link, zeros included.
-- +goose StatementBegin
CREATE FUNCTION link_counters_track() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    -- On INSERT the whole counts, on UPDATE what changed. An upsert, so a
    -- row the backfill (00016) has not reached yet is created, and a row
    -- the backfill is inserting right now is waited for and then added to.
    INSERT INTO link_counters AS c (link_id, click_count, preview_count, forwarded_clicks)
    VALUES (NEW.id, NEW.click_count, NEW.preview_count, NEW.forwarded_clicks)
    ON CONFLICT (link_id) DO UPDATE
    SET click_count = c.click_count + EXCLUDED.click_count - CASE WHEN TG_OP = 'UPDATE' THEN OLD.click_count ELSE 0 END,
        preview_count = c.preview_count + EXCLUDED.preview_count - CASE WHEN TG_OP = 'UPDATE' THEN OLD.preview_count ELSE 0 END,
        forwarded_clicks = c.forwarded_clicks + EXCLUDED.forwarded_clicks - CASE WHEN TG_OP = 'UPDATE' THEN OLD.forwarded_clicks ELSE 0 END;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER short_links_counters_insert
    AFTER INSERT ON short_links
    FOR EACH ROW EXECUTE FUNCTION link_counters_track();
CREATE TRIGGER short_links_counters_update
    AFTER UPDATE OF click_count, preview_count, forwarded_clicks ON short_links
    FOR EACH ROW
    WHEN (OLD.click_count IS DISTINCT FROM NEW.click_count
          OR OLD.preview_count IS DISTINCT FROM NEW.preview_count
          OR OLD.forwarded_clicks IS DISTINCT FROM NEW.forwarded_clicks)
    EXECUTE FUNCTION link_counters_track();

-- +goose Down
SET lock_timeout = '5s';
-- Give short_links back the counts it missed, so older code reads them.
UPDATE short_links l SET click_count = c.click_count, preview_count = c.preview_count,
    forwarded_clicks = c.forwarded_clicks
FROM link_counters c
WHERE c.link_id = l.id AND (l.click_count, l.preview_count, l.forwarded_clicks)
    IS DISTINCT FROM (c.click_count, c.preview_count, c.forwarded_clicks);
DROP TRIGGER short_links_counters_update ON short_links;
DROP TRIGGER short_links_counters_insert ON short_links;
DROP FUNCTION link_counters_track();
DROP TABLE link_counters;
