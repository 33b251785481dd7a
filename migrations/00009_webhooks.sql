-- +goose Up
-- A strong lock (a trigger on short_links) is waited for at most 500 ms;
-- migrations.Migrator then retries the file (it runs in one transaction).
SET LOCAL lock_timeout = '500ms';
SET LOCAL statement_timeout = '1min';
-- Click webhooks (Standard Webhooks). The endpoints are WEBHOOK_URLS, written
-- here at start-up so every instance and every statement that emits an event
-- sees the same set.
CREATE TABLE webhook_endpoints (
    id                   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                  text NOT NULL UNIQUE,
    -- false once the URL left WEBHOOK_URLS: no new events, nothing sent.
    enabled              boolean NOT NULL DEFAULT true,
    consecutive_failures integer NOT NULL DEFAULT 0,
    failing_since        timestamptz,
    -- NULL while the endpoint answers. Once it keeps failing it is
    -- suspended: only one delivery, the probe, is tried at probe_at.
    probe_at             timestamptz,
    last_success_at      timestamptz,
    last_error           text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- The outbox and the delivery log at once: one row per event per endpoint,
-- inserted by the same statement as the change the event describes, so an
-- event exists exactly when its change committed. msg_id is the webhook-id
-- header, shared by the rows of one event across endpoints.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     integer NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    msg_id          text NOT NULL,
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    -- Incremented when a worker leases the row; the worker's result only
    -- lands while attempts still holds the value it leased.
    attempts        integer NOT NULL DEFAULT 0,
    -- When the row is due (again).
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- Set while a worker holds the row, past its request timeout: no other
    -- worker of any instance takes it meanwhile, and a worker that dies
    -- simply lets it run out.
    leased_until    timestamptz,
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text NOT NULL DEFAULT '',
    delivered_at    timestamptz,
    CONSTRAINT webhook_deliveries_endpoint_msg_key UNIQUE (endpoint_id, msg_id)
);
-- The workers' lease: due pending rows, oldest first.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- The admin log per endpoint, newest first; an endpoint's waiting and
-- given-up rows (counts, probes, "retry now"); pruning by age.
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_open_idx ON webhook_deliveries (endpoint_id, state) WHERE state <> 'delivered';
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at) WHERE state <> 'pending';

-- Timestamps in payloads: RFC 3339 in UTC whatever the session's TimeZone.
CREATE FUNCTION webhook_time(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

-- The Standard Webhooks envelope: {"type", "timestamp", "data"}.
CREATE FUNCTION webhook_envelope(event_type text, at timestamptz, data jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT jsonb_build_object('type', event_type, 'timestamp', webhook_time(at), 'data', data) $$;

-- webhook_enqueue queues one event for every enabled endpoint, inside the
-- caller's transaction; with no endpoint it writes nothing. It returns the
-- rows written, so a caller can use it in a statement's output (a SELECT
-- CTE runs only when something reads it).
-- +goose StatementBegin
CREATE FUNCTION webhook_enqueue(p_type text, p_msg_id text, p_data jsonb) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, msg_id, event_type, payload)
    SELECT e.id, p_msg_id, p_type, webhook_envelope(p_type, clock_timestamp(), p_data)
    FROM webhook_endpoints e
    WHERE e.enabled;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
-- +goose StatementEnd

-- link.created and link.deactivated come from triggers rather than from the
-- Go statements that change links: every path that creates or retires a link
-- (the API, the admin pages, the Shlink-compatible API, psql) emits them in
-- its own statement, and an INSERT ... ON CONFLICT DO NOTHING that loses the
-- race fires no AFTER INSERT trigger, so only the winner emits.
-- +goose StatementBegin
CREATE FUNCTION short_links_webhook_event() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM webhook_enqueue('link.created', 'msg_link_' || NEW.id || '_created', jsonb_build_object(
            'slug', NEW.slug, 'destination_url', NEW.destination_url, 'link_type', NEW.link_type,
            'business_id', NEW.business_id, 'site_id', NEW.site_id,
            'created_at', webhook_time(NEW.created_at)));
    ELSE
        -- A link can be deactivated, reactivated and deactivated again:
        -- each time is an event of its own.
        PERFORM webhook_enqueue('link.deactivated', 'msg_' || replace(gen_random_uuid()::text, '-', ''), jsonb_build_object(
            'slug', NEW.slug, 'destination_url', NEW.destination_url, 'link_type', NEW.link_type,
            'business_id', NEW.business_id, 'deactivated_at', webhook_time(NEW.updated_at)));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER short_links_webhook_created
    AFTER INSERT ON short_links
    FOR EACH ROW EXECUTE FUNCTION short_links_webhook_event();

-- UPDATE OF keeps click flushes from running the trigger at all.
CREATE TRIGGER short_links_webhook_deactivated
    AFTER UPDATE OF is_active ON short_links
    FOR EACH ROW
    WHEN (OLD.is_active AND NOT NEW.is_active)
    EXECUTE FUNCTION short_links_webhook_event();

-- +goose Down
SET LOCAL lock_timeout = '500ms';
DROP TRIGGER short_links_webhook_deactivated ON short_links;
DROP TRIGGER short_links_webhook_created ON short_links;
DROP FUNCTION short_links_webhook_event();
DROP FUNCTION webhook_enqueue(text, text, jsonb);
DROP FUNCTION webhook_envelope(text, timestamptz, jsonb);
DROP FUNCTION webhook_time(timestamptz);
-- squawk-ignore ban-drop-table
DROP TABLE webhook_deliveries;
-- squawk-ignore ban-drop-table
DROP TABLE webhook_endpoints;
