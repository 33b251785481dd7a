-- +goose Up
-- New tables: no lock taken here waits on traffic, but the timeouts bound
-- it all the same (make lint-migrations).
SET LOCAL lock_timeout = '3s';
SET LOCAL statement_timeout = '1min';
-- Named API keys for /api/v1 (Bearer) and /rest (X-Api-Key). Only the
-- SHA-256 of a key is stored; hint is its prefix and four characters, to
-- tell keys apart in lists. user_id is the owner (NULL for keys made with
-- the CLI); created_by names whoever made it.
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    key_hash     bytea NOT NULL UNIQUE,
    hint         text NOT NULL DEFAULT '',
    role         text NOT NULL CHECK (role IN ('admin', 'marketer', 'viewer')),
    user_id      bigint REFERENCES users (id) ON DELETE CASCADE,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
-- A name picks one live key ("shortlinks keys revoke NAME"); a revoked
-- key's name can be used again.
CREATE UNIQUE INDEX api_keys_live_name_key ON api_keys (name) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_user_idx ON api_keys (user_id) WHERE user_id IS NOT NULL;

-- +goose Down
SET LOCAL lock_timeout = '3s';
-- squawk-ignore ban-drop-table
DROP TABLE api_keys;
