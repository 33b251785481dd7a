-- +goose Up
-- Results per (variant, template version), kept like the per-variant ones
-- (00007, 00018, 00019) by RecordSend, VoidSend and the click flush, in the
-- transactions that change the sends, so /admin/results?by=version and the
-- API's ?by=version read a few rows per version (per hour for a window)
-- instead of every send:
--   campaign_version_businesses: one row per (variant, version, business):
--     its clicks, latest send and latest tapped send (businesses are
--     counted once, and in the hour of their latest);
--   campaign_version_totals: the running totals, one row per version;
--   campaign_version_hours: per UTC hour of sent_at, as campaign_variant_hours.
-- template_version is -1 for sends recorded before versions were kept
-- (campaign_sends.template_version NULL): a key column cannot be NULL, and
-- equality on -1 needs no IS NOT DISTINCT FROM in the statements.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30min';
CREATE TABLE campaign_version_businesses (
    variant          text NOT NULL,
    template_version integer NOT NULL CHECK (template_version >= -1),
    business_id      uuid NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    clicks           bigint NOT NULL DEFAULT 0,
    last_sent_at     timestamptz NOT NULL,
    last_clicked_at  timestamptz,
    prev_sent_at     timestamptz,
    prev_clicked_at  timestamptz,
    PRIMARY KEY (variant, template_version, business_id)
);
-- The businesses of a window's first hour (see CampaignResultsByVersion).
CREATE INDEX campaign_version_businesses_sent_idx
    ON campaign_version_businesses (variant, template_version, last_sent_at);
CREATE INDEX campaign_version_businesses_clicked_idx
    ON campaign_version_businesses (variant, template_version, last_clicked_at);
CREATE TABLE campaign_version_totals (
    variant            text NOT NULL,
    template_version   integer NOT NULL CHECK (template_version >= -1),
    sends              bigint NOT NULL DEFAULT 0,
    businesses_sent    bigint NOT NULL DEFAULT 0,
    businesses_clicked bigint NOT NULL DEFAULT 0,
    clicks             bigint NOT NULL DEFAULT 0,
    segments           bigint NOT NULL DEFAULT 0,
    cost_micros        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (variant, template_version)
);
CREATE TABLE campaign_version_hours (
    variant                 text NOT NULL,
    template_version        integer NOT NULL CHECK (template_version >= -1),
    hour                    timestamptz NOT NULL, -- date_trunc('hour', sent_at, 'UTC')
    sends                   bigint NOT NULL DEFAULT 0,
    segments                bigint NOT NULL DEFAULT 0,
    cost_micros             bigint NOT NULL DEFAULT 0,
    clicks                  bigint NOT NULL DEFAULT 0,
    businesses_sent_last    bigint NOT NULL DEFAULT 0,
    businesses_clicked_last bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (variant, template_version, hour)
);

-- Backfill from the sends not voided, in this transaction and in one
-- statement, so the three tables are filled from one snapshot of
-- campaign_sends (a read: it blocks no send, void or flush). Exactly once:
-- the tables are new, so a change committed before that snapshot is in it,
-- and code that keeps these tables cannot write them (nor so commit a send,
-- void or tap) until this transaction has committed, after the snapshot, so
-- what it writes is not in it. As with 00018, stop instances running older
-- code before migrating: their sends and flushes would not add here.
WITH per_business AS (
    SELECT variant, COALESCE(template_version, -1) AS template_version, business_id,
           COUNT(*) AS sends, SUM(clicks) AS clicks, SUM(segments) AS segments, SUM(cost_micros) AS cost_micros,
           MAX(sent_at) AS last_sent_at, MAX(sent_at) FILTER (WHERE clicks > 0) AS last_clicked_at
    FROM campaign_sends
    WHERE voided_at IS NULL
    GROUP BY 1, 2, 3
), businesses AS (
    INSERT INTO campaign_version_businesses (variant, template_version, business_id, clicks, last_sent_at, last_clicked_at)
    SELECT variant, template_version, business_id, clicks, last_sent_at, last_clicked_at FROM per_business
), totals AS (
    INSERT INTO campaign_version_totals (variant, template_version, sends, businesses_sent, businesses_clicked,
                                         clicks, segments, cost_micros)
    SELECT variant, template_version, SUM(sends), COUNT(*), COUNT(*) FILTER (WHERE clicks > 0),
           SUM(clicks), SUM(segments), SUM(cost_micros)
    FROM per_business
    GROUP BY 1, 2
)
INSERT INTO campaign_version_hours (variant, template_version, hour, sends, segments, cost_micros, clicks,
                                    businesses_sent_last, businesses_clicked_last)
SELECT variant, template_version, hour, SUM(sends), SUM(segments), SUM(cost_micros), SUM(clicks),
       SUM(sent_last), SUM(clicked_last)
FROM (
    SELECT variant, COALESCE(template_version, -1) AS template_version, date_trunc('hour', sent_at, 'UTC') AS hour,
           1 AS sends, segments, cost_micros, clicks, 0 AS sent_last, 0 AS clicked_last
    FROM campaign_sends
    WHERE voided_at IS NULL
    UNION ALL
    SELECT variant, template_version, date_trunc('hour', last_sent_at, 'UTC'), 0, 0, 0, 0, 1, 0
    FROM per_business
    UNION ALL
    SELECT variant, template_version, date_trunc('hour', last_clicked_at, 'UTC'), 0, 0, 0, 0, 0, 1
    FROM per_business WHERE last_clicked_at IS NOT NULL
) u
GROUP BY 1, 2, 3;

-- +goose Down
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';
-- squawk-ignore ban-drop-table
DROP TABLE campaign_version_hours;
-- squawk-ignore ban-drop-table
DROP TABLE campaign_version_totals;
-- squawk-ignore ban-drop-table
DROP TABLE campaign_version_businesses;
