-- +goose Up
-- New tables: no lock taken here waits on traffic, but the timeouts bound
-- it all the same (make lint-migrations).
SET LOCAL lock_timeout = '3s';
SET LOCAL statement_timeout = '1min';
-- One-time set-password links: an invite, or a reset an admin issued. Only
-- the SHA-256 of the link's token is kept. A link works once (used_at) and
-- until expires_at (72 h); issuing a new one for a user voids the older.
CREATE TABLE invites (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    purpose    text NOT NULL CHECK (purpose IN ('invite', 'reset')),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX invites_user_idx ON invites (user_id) WHERE used_at IS NULL;

-- +goose Down
SET LOCAL lock_timeout = '3s';
-- squawk-ignore ban-drop-table
DROP TABLE invites;
