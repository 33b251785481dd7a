-- +goose Up
-- Taps that a client over the unknown-slug limit (a slug guesser, or a phone
-- behind the same carrier address as one) lands on real links. They are
-- redirected but not counted as clicks; they are counted here instead, one
-- narrow row per link, written by their own small flush
-- (db/suspect_taps.go), apart from the click flush and its tables.
--
-- Online-safe: two new tables. The foreign key takes a brief SHARE ROW
-- EXCLUSIVE lock on short_links (no scan: the new table is empty), waited
-- for at most 500 ms, so a long transaction holding short_links makes the
-- migration fail and be retried (migrations.Migrator retries the file)
-- rather than queue every write behind it.
SET LOCAL lock_timeout = '500ms';
SET LOCAL statement_timeout = '1min';

CREATE TABLE link_suspect_taps (
    link_id         bigint PRIMARY KEY REFERENCES short_links (id) ON DELETE CASCADE,
    taps            bigint NOT NULL CHECK (taps >= 0),
    last_flushed_at timestamptz NOT NULL DEFAULT now()
);

-- One row per applied suspect-tap flush, as click_flushes is for clicks: a
-- retry of a flush whose commit outcome was unknown finds its id and adds
-- nothing. Pruned after a day.
CREATE TABLE suspect_tap_flushes (
    batch_id   uuid PRIMARY KEY,
    flushed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX suspect_tap_flushes_flushed_at_idx ON suspect_tap_flushes (flushed_at);

-- +goose Down
SET LOCAL lock_timeout = '500ms';
-- squawk-ignore ban-drop-table
DROP TABLE suspect_tap_flushes;
-- squawk-ignore ban-drop-table
DROP TABLE link_suspect_taps;
