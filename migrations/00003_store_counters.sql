-- +goose Up
-- A strong lock (a trigger on short_links) is waited for at most 500 ms;
-- migrations.Migrator then retries the file (it runs in one transaction).
SET LOCAL lock_timeout = '500ms';
SET LOCAL statement_timeout = '1min';
-- Totals that outlive a process, such as get-or-create races resolved by the
-- conflict path. Each instance adds its in-memory delta every half minute
-- and on shutdown, so the request path never writes to this table and
-- racing inserts never queue on its row lock.
CREATE TABLE store_counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL DEFAULT 0 CHECK (value >= 0)
);
INSERT INTO store_counters (name) VALUES ('conflicts_resolved');

-- Admin sessions are signed cookies that any instance can check; signing
-- out records the session here so no instance accepts it again. Rows are
-- kept only until the cookie would have expired anyway.
CREATE TABLE revoked_sessions (
    id         text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- +goose Down
SET LOCAL lock_timeout = '500ms';
-- squawk-ignore ban-drop-table
DROP TABLE revoked_sessions;
-- squawk-ignore ban-drop-table
DROP TABLE store_counters;
