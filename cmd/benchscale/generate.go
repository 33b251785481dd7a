package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/shortlinks/shortlinks/db"
)

// datasetTables are the tables the generator fills; their secondary indexes
// are dropped before the load and rebuilt after it, which is several times
// faster than maintaining them row by row.
var datasetTables = []string{"businesses", "sites", "short_links", "link_counters", "link_clicks_daily"}

// datasetReady reports whether dbURL already holds a finished dataset (the
// marker table is written last, in the same transaction as the data).
func datasetReady(ctx context.Context, conn *sql.DB) (bool, error) {
	var ok bool
	err := conn.QueryRowContext(ctx, `SELECT to_regclass('benchscale_dataset') IS NOT NULL`).Scan(&ok)
	return ok, err
}

// generate fills an empty, migrated database with n links. Everything runs
// in one transaction that starts with TRUNCATE: with wal_level=minimal the
// server then writes the rows and indexes straight to the table files
// instead of through the WAL ("unlogged, then logged" for free).
func generate(ctx context.Context, conn *sql.DB, n int64) error {
	businesses := max(n/10, 1)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	steps := []struct{ name, sql string }{
		{"settings", `SET LOCAL session_replication_role = replica`}, // no triggers, no FK checks: consistent by construction
		{"settings", `SET LOCAL maintenance_work_mem = '1GB'`},
		{"settings", `SET LOCAL max_parallel_maintenance_workers = 2`},
		{"settings", `SET LOCAL statement_timeout = 0`},
		{"truncate", `TRUNCATE ` + strings.Join(datasetTables, ", ") + `, duplicate_checks RESTART IDENTITY CASCADE`},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.sql); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	indexes, err := dropSecondaryIndexes(ctx, tx)
	if err != nil {
		return err
	}
	load := []struct{ name, sql string }{
		{"businesses", businessesSQL},
		{"sites", sitesSQL},
		{"short_links", linksSQL},
		{"link_counters", countersSQL},
		{"link_clicks_daily", dailySQL},
		{"traffic_totals", trafficTotalsSQL},
	}
	for _, s := range load {
		start := time.Now()
		res, err := tx.ExecContext(ctx, s.sql, n, businesses)
		if err != nil {
			return fmt.Errorf("loading %s: %w", s.name, err)
		}
		rows, _ := res.RowsAffected()
		fmt.Fprintf(os.Stderr, "  %-18s %11d rows  %6.1f s\n", s.name, rows, time.Since(start).Seconds())
	}
	for _, def := range indexes {
		start := time.Now()
		if _, err := tx.ExecContext(ctx, def.def); err != nil {
			return fmt.Errorf("rebuilding %s: %w", def.name, err)
		}
		fmt.Fprintf(os.Stderr, "  index %-36s %6.1f s\n", def.name, time.Since(start).Seconds())
	}
	if err := syncIdentity(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE benchscale_dataset AS SELECT $1::bigint AS links, now() AS built_at`, n); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// VACUUM sets the visibility map (index-only scans) and ANALYZE the
	// statistics the planner needs; neither may run in a transaction.
	start := time.Now()
	for _, t := range datasetTables {
		if _, err := conn.ExecContext(ctx, `VACUUM (ANALYZE) `+pq.QuoteIdentifier(t)); err != nil {
			return fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	fmt.Fprintf(os.Stderr, "  vacuum analyze       %6.1f s\n", time.Since(start).Seconds())
	return nil
}

// syncIdentity moves the id sequence past the ids the generator chose
// itself (OVERRIDING SYSTEM VALUE), so links created later get fresh ids.
func syncIdentity(ctx context.Context, conn interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}) error {
	_, err := conn.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('short_links', 'id'),
		GREATEST((SELECT max(id) FROM short_links), 1))`)
	return err
}

type indexDef struct{ name, def string }

// dropSecondaryIndexes drops every index of the dataset tables that does
// not back a constraint and returns their definitions, in creation order.
func dropSecondaryIndexes(ctx context.Context, tx *sql.Tx) ([]indexDef, error) {
	rows, err := tx.QueryContext(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = to_regnamespace(i.schemaname)
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
		ORDER BY c.oid`, pq.Array(datasetTables))
	if err != nil {
		return nil, err
	}
	var defs []indexDef
	for rows.Next() {
		var d indexDef
		if err := rows.Scan(&d.name, &d.def); err != nil {
			rows.Close()
			return nil, err
		}
		defs = append(defs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, d := range defs {
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+pq.QuoteIdentifier(d.name)); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// base62SQL is the 7-character slug of the integer x (< 62^7), spelled
// with the store's own alphabet.
func base62SQL(x string) string {
	parts := make([]string, 7)
	for k := 0; k < 7; k++ {
		parts[k] = fmt.Sprintf("substr('%s', ((%s / %d) %% 62)::int + 1, 1)", db.Base62, x, pow62(6-k))
	}
	return strings.Join(parts, " || ")
}

func pow62(k int) int64 {
	p := int64(1)
	for ; k > 0; k-- {
		p *= 62
	}
	return p
}

// Words that make business names, cities and URLs look like the real thing
// (and give searches something realistic to find).
const (
	adjectives = `ARRAY['Blue','Golden','Happy','Rapid','Green','Urban','Royal','Sunny','Silver','Bright','Coastal','Northern']`
	nouns      = `ARRAY['Bakery','Plumbing','Dental','Auto Repair','Salon','Fitness','Pizza','Florist','Law Office','Pet Care','Cafe','Roofing','Yoga','Tattoo','Bookshop']`
	cities     = `ARRAY['Springfield','Riverside','Franklin','Greenville','Bristol','Clinton','Fairview','Salem','Madison','Georgetown','Arlington','Ashland','Dover','Oxford','Jackson','Burlington','Manchester','Milton','Newport','Auburn']`
	paths      = `ARRAY['','menu','book','offers/spring','p/gift-card','contact','blog/opening-hours','shop/new-arrivals']`
)

// businessesSQL: $2 businesses, 90% ready for outreach.
var businessesSQL = `INSERT INTO businesses (id, name, city, phone, status, created_at)
	SELECT md5('b' || g)::uuid,
	       (` + adjectives + `)[1 + g % 12] || ' ' || (` + nouns + `)[1 + (g / 12) % 15] || ' ' || g,
	       (` + cities + `)[1 + (g * 7) % 20],
	       '+1555' || lpad((g % 10000000)::text, 7, '0'),
	       CASE WHEN g % 10 = 9 THEN 'do_not_contact' ELSE 'ready_for_outreach' END,
	       timestamptz '2025-01-01 00:00Z' + (g % 600) * interval '1 day'
	FROM generate_series(1, $2::bigint) g
	WHERE $1::bigint > 0`

// sitesSQL: one site per business.
var sitesSQL = `INSERT INTO sites (id, business_id, url, created_at)
	SELECT md5('s' || g)::uuid, md5('b' || g)::uuid,
	       'https://www.' || lower((` + adjectives + `)[1 + g % 12] || replace((` + nouns + `)[1 + (g / 12) % 15], ' ', '')) || g || '.com/',
	       timestamptz '2025-01-01 00:00Z' + (g % 600) * interval '1 day'
	FROM generate_series(1, $2::bigint) g
	WHERE $1::bigint > 0`

// countersSQL: every link's counters row (migration 00015), which the
// insert trigger would write but triggers are off during the load.
var countersSQL = `INSERT INTO link_counters (link_id, click_count, preview_count, forwarded_clicks)
	SELECT id, click_count, preview_count, forwarded_clicks FROM short_links
	WHERE $1::bigint > 0 AND $2::bigint > 0`

// trafficTotalsSQL: the running totals the click flush keeps (migration
// 00010) start from the counts linksSQL wrote, in shard 0.
var trafficTotalsSQL = `UPDATE traffic_totals SET
	clicks = CASE WHEN shard = 0 THEN (SELECT COALESCE(SUM(click_count), 0) FROM short_links) ELSE 0 END,
	previews = CASE WHEN shard = 0 THEN (SELECT COALESCE(SUM(preview_count), 0) FROM short_links) ELSE 0 END
	WHERE $1::bigint > 0 AND $2::bigint > 0`

// linksSQL: $1 links. Links 1..$2 are the businesses' site_preview links;
// the rest are campaign, sms, email, social and qr links to pages of those
// sites. 10% are inactive: half of them are history (an active link has
// their destination and type: d = i + 1), half are unique. created_at
// rises with id over 700 days at minute precision, so about ten links share
// each timestamp at 10M (ties for the keyset orders). One link in five has
// clicks, heavy-tailed.
var linksSQL = `INSERT INTO short_links (id, slug, destination_url, link_type, business_id, site_id,
		is_active, click_count, preview_count, created_at, updated_at)
	OVERRIDING SYSTEM VALUE
	SELECT i, ` + base62SQL("((i * 2654435761) % 3521614606208)") + `,
	       CASE WHEN d <= $2 THEN
	            'https://www.' || lower((` + adjectives + `)[1 + d % 12] || replace((` + nouns + `)[1 + (d / 12) % 15], ' ', '')) || d || '.com/'
	       ELSE
	            'https://www.' || lower((` + adjectives + `)[1 + b % 12] || replace((` + nouns + `)[1 + (b / 12) % 15], ' ', '')) || b || '.com/'
	            || (` + paths + `)[1 + d % 8] || '?utm_source=' || t || '&utm_campaign=c' || (d % 5000) || '&ref=' || d
	       END,
	       t, md5('b' || b)::uuid, md5('s' || b)::uuid,
	       i % 10 <> 5, c, CASE WHEN i % 7 = 0 THEN floor(exp(random() * 5))::bigint ELSE 0 END,
	       date_trunc('minute', timestamptz '2025-01-01 00:00Z' + (i::float8 / $1) * interval '700 days'),
	       date_trunc('minute', timestamptz '2025-01-01 00:00Z' + (i::float8 / $1) * interval '700 days')
	FROM (
	    SELECT i, d,
	           CASE WHEN d <= $2 THEN d ELSE 1 + (d * 7919) % $2 END AS b,
	           CASE WHEN d <= $2 THEN 'site_preview'
	                WHEN d % 100 < 40 THEN 'campaign' WHEN d % 100 < 65 THEN 'sms'
	                WHEN d % 100 < 80 THEN 'email' WHEN d % 100 < 92 THEN 'social' ELSE 'qr' END AS t,
	           CASE WHEN i % 5 = 0 AND i % 10 <> 5 THEN floor(exp(random() * 9))::bigint ELSE 0 END AS c
	    FROM (SELECT i, CASE WHEN i % 20 = 5 AND i < $1 THEN i + 1 ELSE i END AS d
	          FROM generate_series(1, $1::bigint) i) ids
	) g`

// dailySQL: a year of daily rows for one active link in 200.
var dailySQL = `INSERT INTO link_clicks_daily (link_id, day, clicks, previews)
	SELECT l.id, current_date - d, (l.id + d) % 13 + d % 3, (l.id + d) % 4
	FROM short_links l CROSS JOIN generate_series(0, 364) d
	WHERE l.id % 200 = 0 AND l.is_active AND $1::bigint > 0 AND $2::bigint > 0`
