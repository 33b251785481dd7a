-- +goose Up
-- A strong lock (a trigger on short_links) is waited for at most 500 ms;
-- migrations.Migrator then retries the file (it runs in one transaction).
SET LOCAL lock_timeout = '500ms';
SET LOCAL statement_timeout = '1min';
-- Message templates edited in the admin console, one row per variant. A
-- variant without a row uses the configured default (SMS_TEMPLATE_* or the
-- shipped text), so the environment variables are the initial defaults and
-- "Reset to default" is deleting the row. A template is read when a preview
-- is rendered: changing one changes new previews only; text already sent is
-- stored with the send, never re-rendered from here.
CREATE TABLE message_templates (
    variant    text PRIMARY KEY,
    body       text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 1000),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
SET LOCAL lock_timeout = '500ms';
-- squawk-ignore ban-drop-table
DROP TABLE message_templates;
