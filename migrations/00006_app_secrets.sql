-- +goose Up
-- Secrets the service generates for itself, such as the key that signs admin
-- session cookies and CSRF tokens when SESSION_SECRET is not set. Kept here
-- so every instance on this database finds the same key and sessions
-- survive restarts. The first instance to boot inserts a random value with
-- ON CONFLICT DO NOTHING; every instance then reads whichever value won.
CREATE TABLE app_secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL CHECK (octet_length(value) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE app_secrets;
