-- +goose Up
-- The online heal (issue 17): one implementation for the console's "Heal
-- now", `shortlinks heal` and migration 00012. The steps are the functions
-- below; a driver (db.Store.Heal in Go, or 00012's DO block) calls them one
-- per transaction, so each step holds its row locks for a batch only, and a
-- heal interrupted anywhere (kill -9, a restart, a lock timeout) resumes
-- from the last committed step. A driver holds the session advisory lock
-- 0x73686f727468656c ("shorthel") while it runs: one heal at a time across
-- instances. Every run, its progress and every link it merged are rows
-- here, so any instance's dashboard shows them.
SET LOCAL lock_timeout = '500ms';
SET LOCAL statement_timeout = '1min';

CREATE TABLE heal_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text NOT NULL CHECK (source IN ('console', 'cli', 'migration')),
    -- scanning: finding duplicate groups, one range of destination hashes
    -- per step (ranges_done of 256); healing: merging them, groups_done of
    -- groups_found; indexing: building the unique index; then done or failed.
    state        text NOT NULL DEFAULT 'scanning'
                 CHECK (state IN ('scanning', 'healing', 'indexing', 'done', 'failed')),
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz,
    healing_at   timestamptz, -- when the scan ended and merging began (for the ETA)
    ranges_done  integer NOT NULL DEFAULT 0,
    groups_found bigint NOT NULL DEFAULT 0,
    groups_done  bigint NOT NULL DEFAULT 0,
    links_merged bigint NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT ''
);

-- The duplicate groups a run found: its work list.
CREATE TABLE heal_groups (
    run_id           bigint NOT NULL REFERENCES heal_runs (id) ON DELETE CASCADE,
    destination_hash bytea NOT NULL,
    link_type        text NOT NULL,
    healed           boolean NOT NULL DEFAULT false,
    PRIMARY KEY (run_id, destination_hash, link_type)
);

-- Every link a run merged, and the link it was merged into: the heal's
-- report (the log line says only how many).
CREATE TABLE heal_merges (
    run_id        bigint NOT NULL REFERENCES heal_runs (id) ON DELETE CASCADE,
    link_id       bigint NOT NULL,
    slug          text NOT NULL,
    survivor_id   bigint NOT NULL,
    survivor_slug text NOT NULL,
    merged_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, link_id)
);

-- heal_start returns the unfinished run to resume, or a new one. The
-- caller holds the heal lock.
-- +goose StatementBegin
CREATE FUNCTION heal_start(p_source text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    run bigint;
BEGIN
    SELECT id INTO run FROM heal_runs WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1;
    IF run IS NOT NULL THEN
        UPDATE heal_runs SET updated_at = clock_timestamp() WHERE id = run;
        RETURN run;
    END IF;
    INSERT INTO heal_runs (source) VALUES (p_source) RETURNING id INTO run;
    RETURN run;
END
$$;
-- +goose StatementEnd

-- heal_scan records the duplicate groups of the next ranges of destination
-- hashes (by first byte: 256 ranges, each about 1/256 of
-- short_links_destination_idx, read index-only), as many as fit in about
-- 200 ms (at least one), and returns false once all ranges are done. It
-- only reads short_links.
-- +goose StatementBegin
CREATE FUNCTION heal_scan(p_run bigint) RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    r integer;
    lo bytea;
    hi bytea;
    found bigint;
    total bigint := 0;
    t0 timestamptz := clock_timestamp();
BEGIN
    -- The run's row lock orders two drivers of one run (never expected).
    SELECT ranges_done INTO r FROM heal_runs WHERE id = p_run AND state = 'scanning' FOR UPDATE;
    IF r IS NULL THEN
        RETURN false;
    END IF;
    LOOP
        lo := set_byte('\x00'::bytea, 0, r);
        -- Above every 32-byte hash for the last range.
        hi := CASE WHEN r < 255 THEN set_byte('\x00'::bytea, 0, r + 1) ELSE decode(repeat('ff', 33), 'hex') END;
        INSERT INTO heal_groups (run_id, destination_hash, link_type)
        SELECT p_run, destination_hash, link_type
        FROM short_links
        WHERE destination_hash >= lo AND destination_hash < hi AND is_active
        GROUP BY destination_hash, link_type
        HAVING count(*) > 1
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS found = ROW_COUNT;
        total := total + found;
        r := r + 1;
        EXIT WHEN r >= 256 OR clock_timestamp() - t0 > interval '200 milliseconds';
    END LOOP;
    UPDATE heal_runs
    SET ranges_done = r, groups_found = groups_found + total,
        state = CASE WHEN r >= 256 THEN 'healing' ELSE state END,
        healing_at = CASE WHEN r >= 256 THEN clock_timestamp() END,
        updated_at = clock_timestamp()
    WHERE id = p_run;
    RETURN true;
END
$$;
-- +goose StatementEnd

-- heal_batch merges up to p_groups of the run's groups and returns how many
-- it handled (0: none left, the run moves on to indexing). The rule is the
-- seed's: the oldest active link of a (destination, link type) stays, the
-- others become inactive and superseded_by it, and links superseded by one
-- of them are re-pointed to it (forwarding stays one hop). Rows are locked
-- first, in id order (the click flush's order), so the two never deadlock.
-- +goose StatementBegin
CREATE FUNCTION heal_batch(p_run bigint, p_groups integer) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    hashes bytea[];
    types text[];
    merged bigint;
BEGIN
    PERFORM 1 FROM heal_runs WHERE id = p_run AND state = 'healing' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    SELECT array_agg(destination_hash ORDER BY destination_hash, link_type),
           array_agg(link_type ORDER BY destination_hash, link_type)
    INTO hashes, types
    FROM (SELECT destination_hash, link_type FROM heal_groups
          WHERE run_id = p_run AND NOT healed
          ORDER BY destination_hash, link_type
          LIMIT p_groups) g;
    IF hashes IS NULL THEN
        UPDATE heal_runs SET state = 'indexing', updated_at = clock_timestamp() WHERE id = p_run;
        RETURN 0;
    END IF;

    -- The groups' active links and the links merged into them, each found
    -- through an index (destination, superseded_by), locked by id.
    PERFORM 1 FROM short_links l
    WHERE l.id IN (
        WITH grp AS (
            SELECT a.id FROM short_links a
            WHERE a.is_active AND (a.destination_hash, a.link_type) IN (SELECT * FROM unnest(hashes, types))
        )
        SELECT id FROM grp
        UNION SELECT d.id FROM short_links d WHERE d.superseded_by IN (SELECT id FROM grp))
    ORDER BY l.id
    FOR UPDATE OF l;

    WITH ranked AS (
        SELECT l.id, l.slug,
               first_value(l.id) OVER w AS survivor, first_value(l.slug) OVER w AS survivor_slug,
               row_number() OVER w AS rank
        FROM short_links l
        WHERE l.is_active AND (l.destination_hash, l.link_type) IN (SELECT * FROM unnest(hashes, types))
        WINDOW w AS (PARTITION BY l.destination_hash, l.destination_url, l.link_type ORDER BY l.created_at, l.id)
    ), losers AS (
        UPDATE short_links l
        SET is_active = false, superseded_by = r.survivor, updated_at = clock_timestamp()
        FROM ranked r
        WHERE l.id = r.id AND r.rank > 1
        RETURNING l.id, l.slug, r.survivor, r.survivor_slug
    ), repointed AS (
        UPDATE short_links d SET superseded_by = losers.survivor
        FROM losers WHERE d.superseded_by = losers.id
    ), recorded AS (
        INSERT INTO heal_merges (run_id, link_id, slug, survivor_id, survivor_slug)
        SELECT p_run, id, slug, survivor, survivor_slug FROM losers
        ON CONFLICT DO NOTHING
    )
    SELECT count(*) INTO merged FROM losers;

    UPDATE heal_groups SET healed = true
    WHERE run_id = p_run AND (destination_hash, link_type) IN (SELECT * FROM unnest(hashes, types));
    UPDATE heal_runs
    SET groups_done = groups_done + cardinality(hashes), links_merged = links_merged + merged,
        updated_at = clock_timestamp()
    WHERE id = p_run;
    RETURN cardinality(hashes);
END
$$;
-- +goose StatementEnd

-- heal_finish ends a run: done, or failed with the reason.
-- +goose StatementBegin
CREATE FUNCTION heal_finish(p_run bigint, p_error text) RETURNS void
    LANGUAGE sql AS $$
    UPDATE heal_runs
    SET state = CASE WHEN p_error = '' THEN 'done' ELSE 'failed' END, error = p_error,
        finished_at = clock_timestamp(), updated_at = clock_timestamp()
    WHERE id = p_run AND finished_at IS NULL
$$;
-- +goose StatementEnd

-- +goose Down
SET LOCAL lock_timeout = '500ms';
DROP FUNCTION heal_finish(bigint, text);
DROP FUNCTION heal_batch(bigint, integer);
DROP FUNCTION heal_scan(bigint);
DROP FUNCTION heal_start(text);
-- squawk-ignore ban-drop-table
DROP TABLE heal_merges;
-- squawk-ignore ban-drop-table
DROP TABLE heal_groups;
-- squawk-ignore ban-drop-table
DROP TABLE heal_runs;
