-- +goose Up
-- New tables: no lock taken here waits on traffic, but the timeouts bound
-- it all the same (make lint-migrations).
SET LOCAL lock_timeout = '3s';
SET LOCAL statement_timeout = '1min';
-- The audit trail: one row per change, written in the change's own
-- transaction (db/audit.go), so a rolled-back change leaves no row.
-- actor is the user's email, "key:NAME", "API_TOKEN", "cli" or "system";
-- before/after hold the edited fields where the change is an edit.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    actor_kind  text NOT NULL CHECK (actor_kind IN ('user', 'key', 'token', 'cli', 'system', 'anonymous')),
    action      text NOT NULL,
    object_type text NOT NULL DEFAULT '',
    object_id   text NOT NULL DEFAULT '',
    before      jsonb,
    after       jsonb,
    client_addr text NOT NULL DEFAULT ''
);
-- The Audit page and GET /api/v1/audit page newest first by id, filtered
-- by one of these; retention deletes by time.
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, id DESC);

-- Who created a link (a send's sent_by is 00030's). Adding a nullable column without
-- a default changes only the catalog (no rewrite), but it still needs a
-- brief ACCESS EXCLUSIVE lock: a short lock_timeout makes it give up
-- rather than queue every query behind a long transaction (rerun it then).
SET LOCAL lock_timeout = '3s';
ALTER TABLE short_links ADD COLUMN created_by text;

-- +goose Down
SET LOCAL lock_timeout = '3s';
-- squawk-ignore ban-drop-column
ALTER TABLE short_links DROP COLUMN created_by;
-- squawk-ignore ban-drop-table
DROP TABLE audit_log;
