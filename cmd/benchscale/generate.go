package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/shortlinks/shortlinks/db"
)

// datasetTables are the tables the generator fills; their secondary indexes
// are dropped before the load and rebuilt after it, which is several times
// faster than maintaining them row by row.
// Tables of later migrations are in the list too; those the schema does
// not have (yet) are left out (existingTables).
var datasetTables = []string{"businesses", "sites", "short_links", "link_clicks_daily",
	"campaign_sends", "campaign_variant_businesses", "link_counters", "campaign_variant_hours",
	"campaign_version_businesses", "campaign_version_hours", "campaign_variant_gaps", "campaign_version_gaps"}

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
	tables, err := existingTables(ctx, tx, append(datasetTables, "duplicate_checks", "campaign_variant_totals", "campaign_version_totals"))
	if err != nil {
		return err
	}
	steps := []struct{ name, sql string }{
		{"settings", `SET LOCAL session_replication_role = replica`}, // no triggers, no FK checks: consistent by construction
		{"settings", `SET LOCAL maintenance_work_mem = '1GB'`},
		{"settings", `SET LOCAL max_parallel_maintenance_workers = 2`},
		{"settings", `SET LOCAL statement_timeout = 0`},
		{"truncate", `TRUNCATE ` + strings.Join(tables, ", ") + ` RESTART IDENTITY CASCADE`},
		{"old marker", `DROP TABLE IF EXISTS benchscale_dataset`},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.sql); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	indexes, err := dropSecondaryIndexes(ctx, tx, tables)
	if err != nil {
		return err
	}
	has := func(t string) bool { return slices.Contains(tables, t) }
	// The counts and rollups later migrations keep (the triggers and
	// statements that write them are off during the load).
	variantBusinesses := variantBusinessesSQL
	if ok, err := hasColumn(ctx, tx, "campaign_variant_businesses", "last_sent_at"); err != nil {
		return err
	} else if ok {
		variantBusinesses = variantBusinessesLastSQL
	}
	load := []struct {
		name, sql string
		when      bool
	}{
		{"businesses", businessesSQL, true},
		{"sites", sitesSQL, true},
		{"short_links", linksSQL, true},
		{"link_counters", linkCountersSQL, has("link_counters")},
		{"link_clicks_daily", dailySQL, true},
		{"traffic_totals", trafficTotalsSQL, true},
		{"campaign_sends", sendsSQL, true},
		{"variant_businesses", variantBusinesses, true},
		{"variant_totals", variantTotalsSQL, true},
		{"variant_hours", variantHoursSQL, has("campaign_variant_hours")},
		{"version_businesses", versionBusinessesSQL, has("campaign_version_businesses")},
		{"version_totals", versionTotalsSQL, has("campaign_version_totals")},
		{"version_hours", versionHoursSQL, has("campaign_version_hours")},
		{"variant_gaps", variantGapsSQL, has("campaign_variant_gaps")},
		{"version_gaps", versionGapsSQL, has("campaign_version_gaps")},
	}
	mult, inverse := permutation(n)
	for _, s := range load {
		if !s.when {
			continue
		}
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
	for _, t := range tables {
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

// existingTables is those of names the schema has.
func existingTables(ctx context.Context, tx *sql.Tx, names []string) ([]string, error) {
	var out []string
	for _, t := range names {
		var ok bool
		if err := tx.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, t).Scan(&ok); err != nil {
			return nil, err
		}
		if ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// hasColumn reports whether table has column.
func hasColumn(ctx context.Context, tx *sql.Tx, table, column string) (bool, error) {
	var ok bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2)`, table, column).Scan(&ok)
	return ok, err
}

// dropSecondaryIndexes drops every index of tables that does not back a
// constraint and returns their definitions, in creation order.
func dropSecondaryIndexes(ctx context.Context, tx *sql.Tx, tables []string) ([]indexDef, error) {
	rows, err := tx.QueryContext(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = to_regnamespace(i.schemaname)
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
		ORDER BY c.oid`, pq.Array(tables))
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
