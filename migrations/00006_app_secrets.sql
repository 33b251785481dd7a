-- +goose Up
-- A strong lock (a trigger on short_links) is waited for at most 500 ms;
-- migrations.Migrator then retries the file (it runs in one transaction).
SET LOCAL lock_timeout = '500ms';
SET LOCAL statement_timeout = '1min';
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
SET LOCAL lock_timeout = '500ms';
-- squawk-ignore ban-drop-table
DROP TABLE app_secrets;
