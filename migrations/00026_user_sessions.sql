-- +goose Up
-- New tables: no lock taken here waits on traffic, but the timeouts bound
-- it all the same (make lint-migrations).
SET LOCAL lock_timeout = '3s';
SET LOCAL statement_timeout = '1min';
-- Console sessions. The cookie holds a random token; only its SHA-256 is
-- kept, so a copy of this table signs no one in. Every request reads its
-- session joined to the user, so ending a session, disabling a user or
-- changing a role holds on every instance at the next request.
CREATE TABLE user_sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    client_addr  text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 300)
);
-- A user's sessions, newest first (the Sessions page, "end all others").
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id, created_at DESC);
-- Pruning of expired and ended sessions.
CREATE INDEX user_sessions_expires_idx ON user_sessions (expires_at);

-- +goose Down
SET LOCAL lock_timeout = '3s';
-- squawk-ignore ban-drop-table
DROP TABLE user_sessions;
