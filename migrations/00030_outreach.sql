-- +goose Up
-- The outreach day (issue 20): imported businesses, opt-outs, voided sends,
-- the template version a send used, who sent it, and when it was first
-- tapped. Every change here is catalog-only on PostgreSQL 11+ (nullable
-- columns, or a constant default; dropping NOT NULL), so no table is
-- rewritten; lock_timeout keeps the brief ACCESS EXCLUSIVE locks from
-- queueing behind a long transaction (goose runs this file in one
-- transaction, so SET LOCAL ends with it; rerun the migration if it times
-- out).
SET LOCAL lock_timeout = '3s';
SET LOCAL statement_timeout = '30s';

-- external_id: the caller's key for re-imports (unique where set: the
-- index is built concurrently in 00031). opted_out_at: the business replied
-- STOP; no send is recorded for it until it opts back in.
ALTER TABLE businesses
    ADD COLUMN external_id text,
    ADD COLUMN opted_out_at timestamptz;

-- template_version: the message_templates version the send rendered (0 is
-- the configured default never edited; NULL for sends recorded before
-- this migration). sent_by: who recorded it (NULL until accounts exist).
-- first_clicked_at: kept by the trigger below. voided_*: a send recorded
-- by mistake, excluded from status and results, kept for the record.
ALTER TABLE campaign_sends
    ADD COLUMN template_version integer,
    ADD COLUMN sent_by text,
    ADD COLUMN first_clicked_at timestamptz,
    ADD COLUMN voided_at timestamptz,
    ADD COLUMN void_reason text,
    ADD COLUMN voided_by text;

-- Each save of a template bumps version; "reset to default" keeps the row
-- with a NULL body (and a new version), so a version number never comes
-- back with another text.
-- A constant default: catalog-only since PostgreSQL 11, no rewrite, and
-- the table has at most one row per variant.
-- squawk-ignore adding-not-nullable-field
ALTER TABLE message_templates ADD COLUMN version integer NOT NULL DEFAULT 1;
-- Dropping NOT NULL only relaxes the catalog; old code never reads a NULL
-- body (it has no reset row until new code writes one).
-- squawk-ignore ban-drop-not-null
ALTER TABLE message_templates ALTER COLUMN body DROP NOT NULL;

-- The first tap of a send, stamped when the click flush first adds to its
-- clicks (within a flush interval of the tap). A trigger rather than a
-- change to the flush statement, so the flush keeps one owner.
-- +goose StatementBegin
CREATE FUNCTION campaign_sends_first_click() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.clicks > 0 AND OLD.clicks = 0 AND NEW.first_clicked_at IS NULL THEN
        NEW.first_clicked_at := clock_timestamp();
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER campaign_sends_first_click
    BEFORE UPDATE OF clicks ON campaign_sends
    FOR EACH ROW
    WHEN (OLD.clicks = 0 AND NEW.clicks > 0)
    EXECUTE FUNCTION campaign_sends_first_click();

-- One row per import (console, API or CLI): what it did, and the answer an
-- Idempotency-Key repeat replays.
CREATE TABLE business_imports (
    id         uuid PRIMARY KEY,
    imported   integer NOT NULL,
    updated    integer NOT NULL,
    rejected   jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
SET LOCAL lock_timeout = '3s';
SET LOCAL statement_timeout = '30s';
-- squawk-ignore ban-drop-table
DROP TABLE business_imports;
DROP TRIGGER campaign_sends_first_click ON campaign_sends;
DROP FUNCTION campaign_sends_first_click();
DELETE FROM message_templates WHERE body IS NULL;
-- squawk-ignore ban-drop-column
ALTER TABLE message_templates DROP COLUMN version;
-- squawk-ignore adding-not-nullable-field
ALTER TABLE message_templates ALTER COLUMN body SET NOT NULL;
-- squawk-ignore ban-drop-column
ALTER TABLE campaign_sends DROP COLUMN template_version;
-- squawk-ignore ban-drop-column
ALTER TABLE campaign_sends DROP COLUMN sent_by;
-- squawk-ignore ban-drop-column
ALTER TABLE campaign_sends DROP COLUMN first_clicked_at;
-- squawk-ignore ban-drop-column
ALTER TABLE campaign_sends DROP COLUMN voided_at;
-- squawk-ignore ban-drop-column
ALTER TABLE campaign_sends DROP COLUMN void_reason;
-- squawk-ignore ban-drop-column
ALTER TABLE campaign_sends DROP COLUMN voided_by;
-- squawk-ignore ban-drop-column
ALTER TABLE businesses DROP COLUMN external_id;
-- squawk-ignore ban-drop-column
ALTER TABLE businesses DROP COLUMN opted_out_at;
