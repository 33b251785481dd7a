-- +goose Up
-- Webhook endpoints managed in the console and the API (issue 23), beside the
-- ones WEBHOOK_URLS configures. Every column added here has a constant
-- default or none, so no row is rewritten; the constraints are added NOT VALID
-- and validated by 00036, under a weaker lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

-- Rows that exist now were all written from WEBHOOK_URLS: the column is added
-- with 'config' (stored in the catalog, no rewrite). It stays the default, so
-- a writer that knows nothing of sources (SyncWebhookEndpoints before this
-- change, a psql INSERT) still makes a configured endpoint; the API and the
-- console name 'api' explicitly.
ALTER TABLE webhook_endpoints
    ADD COLUMN source text NOT NULL DEFAULT 'config',
    -- whsec_…; NULL for configured endpoints, which sign with WEBHOOK_SECRET.
    ADD COLUMN secret text,
    -- The secret before the last rotation, still signing (beside the new one)
    -- until previous_secret_expires_at, so receivers can switch over.
    ADD COLUMN previous_secret text,
    ADD COLUMN previous_secret_expires_at timestamptz,
    -- The event types queued for the endpoint; empty means every event.
    ADD COLUMN event_types text[] NOT NULL DEFAULT '{}';

ALTER TABLE webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_source_check CHECK (source IN ('api', 'config')) NOT VALID,
    ADD CONSTRAINT webhook_endpoints_secret_check CHECK (source = 'config' OR secret IS NOT NULL) NOT VALID;

-- The event-type filter is applied where deliveries are created, whoever
-- creates them (webhook_enqueue, the link triggers, the click flush), so no
-- writer has to know about it: a row for an event the endpoint does not want
-- is never inserted. One primary-key lookup per row; webhook.test is sent
-- whatever the filter.
-- +goose StatementBegin
CREATE FUNCTION webhook_deliveries_filter() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM webhook_endpoints e
               WHERE e.id = NEW.endpoint_id
                 AND cardinality(e.event_types) > 0
                 AND NOT (NEW.event_type = ANY (e.event_types))) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER webhook_deliveries_filter
    BEFORE INSERT ON webhook_deliveries
    FOR EACH ROW
    WHEN (NEW.event_type <> 'webhook.test')
    EXECUTE FUNCTION webhook_deliveries_filter();

-- +goose Down
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';
DROP TRIGGER webhook_deliveries_filter ON webhook_deliveries;
DROP FUNCTION webhook_deliveries_filter();
-- Endpoints added through the API have no place in the configured-only
-- schema: their deliveries go with them.
DELETE FROM webhook_endpoints WHERE source = 'api';
-- Down removes exactly the columns Up added, which only this version reads.
ALTER TABLE webhook_endpoints
    DROP CONSTRAINT webhook_endpoints_secret_check,
    DROP CONSTRAINT webhook_endpoints_source_check;
-- squawk-ignore ban-drop-column
ALTER TABLE webhook_endpoints DROP COLUMN event_types;
-- squawk-ignore ban-drop-column
ALTER TABLE webhook_endpoints DROP COLUMN previous_secret_expires_at;
-- squawk-ignore ban-drop-column
ALTER TABLE webhook_endpoints DROP COLUMN previous_secret;
-- squawk-ignore ban-drop-column
ALTER TABLE webhook_endpoints DROP COLUMN secret;
-- squawk-ignore ban-drop-column
ALTER TABLE webhook_endpoints DROP COLUMN source;
