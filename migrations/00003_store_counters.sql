-- +goose Up
-- Totals that outlive a process, such as get-or-create races resolved by the
-- conflict path. Each instance adds its in-memory delta every half minute
-- and on shutdown, so the request path never writes to this table and
-- racing inserts never queue on its row lock.
CREATE TABLE store_counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL DEFAULT 0 CHECK (value >= 0)
);
INSERT INTO store_counters (name) VALUES ('conflicts_resolved');

-- +goose Down
DROP TABLE store_counters;
