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
var datasetTables = []string{"businesses", "sites", "short_links", "link_clicks_daily",
	"campaign_sends", "campaign_variant_businesses"}

// datasetMarker is the table a finished dataset holds; its name carries the
// generator's version, so a dataset of an older generator is rebuilt.
// v2: random names, hosts and paths in random order, search text, sends.
const datasetMarker = "benchscale_dataset_v2"

// datasetReady reports whether dbURL already holds a finished dataset (the
// marker table is written last, in the same transaction as the data).
func datasetReady(ctx context.Context, conn *sql.DB) (bool, error) {
	var ok bool
	err := conn.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, datasetMarker).Scan(&ok)
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
		{"truncate", `TRUNCATE ` + strings.Join(datasetTables, ", ") + `, duplicate_checks, campaign_variant_totals RESTART IDENTITY CASCADE`},
		{"old marker", `DROP TABLE IF EXISTS benchscale_dataset`},
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
		{"link_clicks_daily", dailySQL},
		{"traffic_totals", trafficTotalsSQL},
		{"campaign_sends", sendsSQL},
		{"variant_businesses", variantBusinessesSQL},
		{"variant_totals", variantTotalsSQL},
	}
	mult, inverse := permutation(n)
	for _, s := range load {
		start := time.Now()
		res, err := tx.ExecContext(ctx, s.sql, n, businesses, mult, inverse)
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
	if _, err := tx.ExecContext(ctx, `CREATE TABLE `+datasetMarker+` AS SELECT $1::bigint AS links, now() AS built_at`, n); err != nil {
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
