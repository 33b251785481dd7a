-- +goose Up
SET lock_timeout = '5s';

-- A click batch the flusher could not write even after splitting it down to
-- one link: its counts and tap times, kept here instead of being dropped,
-- until an admin replays it (console or CLI). batch_id is the ID the
-- replay flushes it under, so a replay that is retried adds it once.
CREATE TABLE click_dead_letters (
    id         bigserial PRIMARY KEY,
    batch_id   uuid NOT NULL UNIQUE,
    link_id    bigint NOT NULL, -- the one link the batch counts on (no FK: the letter outlives it)
    clicks     bigint NOT NULL,
    previews   bigint NOT NULL,
    batch      jsonb NOT NULL, -- the db.ClickBatch, rows and taps as the flusher cut them
    error      text NOT NULL,  -- why the last attempt failed, as the health page shows it
    attempts   int NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- What each click flush moved in the most_clicks / fewest_clicks order:
-- the union of [count before, count after] over the links it counted on,
-- and the transaction that moved them. A listing cursor carries the
-- snapshot it was read in; the next page is refused (409 cursor_stale) when
-- a move committed outside that snapshot spans the cursor's count, since
-- a link may then have jumped over the cursor (skipped or repeated).
-- Pruned after an hour; older cursors are stale by age.
CREATE TABLE link_count_moves (
    xid      xid8 NOT NULL DEFAULT pg_current_xact_id(),
    moved_at timestamptz NOT NULL DEFAULT now(),
    moved    int8multirange NOT NULL
);
CREATE INDEX link_count_moves_xid_idx ON link_count_moves (xid);
CREATE INDEX link_count_moves_moved_at_idx ON link_count_moves (moved_at);

-- +goose Down
DROP TABLE link_count_moves;
DROP TABLE click_dead_letters;
