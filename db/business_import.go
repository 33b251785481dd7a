package db

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ResourceImport is the idempotency resource of a business import.
const ResourceImport = "business_import"

// importLockKey is the advisory lock that makes imports take turns: two
// imports matching rows to the same business (or inserting the same
// external_id) would otherwise race.
const importLockKey = 7_020_020

// ImportRow is one validated row of an import. SiteURL must be normalized
// and Phone in E.164 (or ""); ExternalID "" means none.
type ImportRow struct {
	Line       int
	Name       string
	SiteURL    string
	City       string
	Phone      string
	ExternalID string
}

// ImportRejection is a row refused by validation: its line in the file
// (the header is line 1), the column at fault and why.
type ImportRejection struct {
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// ImportResult is what an import did.
type ImportResult struct {
	ID       string            `db:"id"`
	Imported int               `db:"imported"`
	Updated  int               `db:"updated"`
	Rejected []ImportRejection `db:"-"`
}

// ImportBusinesses writes rows in one transaction: a row whose external_id
// is already a business's (or, without one, whose phone is) updates that
// business, the others are added. The rows go in with COPY into a
// temporary table and every step is one set-based statement, so 100,000
// rows are a handful of statements. rejected (the rows validation refused,
// when the caller imports the good rows only) is stored with the result.
// Under an idempotency key, a repeat imports nothing and returns the first
// import's result with replayed true.
func (s *Store) ImportBusinesses(ctx context.Context, rows []ImportRow, rejected []ImportRejection, idem Idempotency) (ImportResult, bool, error) {
	if rejected == nil {
		rejected = []ImportRejection{}
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return ImportResult{}, false, fmt.Errorf("store: import: %w", classify(err))
	}
	defer tx.Rollback()
	res := ImportResult{ID: newImportID(), Rejected: rejected}
	// A large import is a few long statements: more than the serving
	// STATEMENT_TIMEOUT allows one query, for this transaction only.
	if _, err = tx.ExecContext(ctx, `SET LOCAL statement_timeout = '120s'`); err != nil {
		return ImportResult{}, false, fmt.Errorf("store: import: %w", classify(err))
	}
	if _, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, importLockKey); err != nil {
		return ImportResult{}, false, fmt.Errorf("store: import: lock: %w", classify(err))
	}
	if idem.Set() {
		var claimed []string
		err = tx.SelectContext(ctx, &claimed, `WITH `+claimKey(ResourceImport)+` SELECT resource_id FROM claimed`,
			idem.Key, idem.RequestHash, res.ID)
		if err != nil {
			return ImportResult{}, false, fmt.Errorf("store: import: %w", classify(err))
		}
		if len(claimed) == 0 {
			tx.Rollback()
			r, err := s.replayedImport(ctx, idem)
			return r, true, err
		}
	}
	if err = copyImportRows(ctx, tx, rows); err != nil {
		return ImportResult{}, false, err
	}
	res.Updated, err = s.updateImported(ctx, tx)
	if err != nil {
		return ImportResult{}, false, err
	}
	res.Imported, err = insertImported(ctx, tx)
	if err != nil {
		return ImportResult{}, false, err
	}
	report, _ := json.Marshal(rejected) // a slice of plain structs: cannot fail
	_, err = tx.ExecContext(ctx, `INSERT INTO business_imports (id, imported, updated, rejected) VALUES ($1, $2, $3, $4)`,
		res.ID, res.Imported, res.Updated, report)
	if err != nil {
		return ImportResult{}, false, fmt.Errorf("store: import: record: %w", classify(err))
	}
	// One row for the import, not one per business: its counts name what
	// changed; the batch's rows are in business_imports under its id.
	err = s.audit(ctx, tx, AuditBusinessImported, "import", res.ID, nil, map[string]any{
		"imported": res.Imported, "updated": res.Updated, "rejected": len(rejected)})
	if err != nil {
		return ImportResult{}, false, err
	}
	if err = tx.Commit(); err != nil {
		return ImportResult{}, false, fmt.Errorf("store: import: %w", classify(err))
	}
	return res, false, nil
}

// copyImportRows loads rows into the temporary table import_rows (dropped
// at commit) with COPY, then matches each to the business it updates.
func copyImportRows(ctx context.Context, tx *sqlx.Tx, rows []ImportRow) error {
	_, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE import_rows (
			line integer NOT NULL, name text NOT NULL, site_url text NOT NULL, city text NOT NULL,
			phone text NOT NULL, external_id text NOT NULL, business_id uuid, is_new boolean NOT NULL DEFAULT false
		) ON COMMIT DROP`)
	if err != nil {
		return fmt.Errorf("store: import: staging table: %w", classify(err))
	}
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("import_rows", "line", "name", "site_url", "city", "phone", "external_id"))
	if err != nil {
		return fmt.Errorf("store: import: copy: %w", classify(err))
	}
	for _, r := range rows {
		if _, err = stmt.ExecContext(ctx, r.Line, r.Name, r.SiteURL, r.City, r.Phone, r.ExternalID); err != nil {
			stmt.Close()
			return fmt.Errorf("store: import: copy line %d: %w", r.Line, classify(err))
		}
	}
	if _, err = stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return fmt.Errorf("store: import: copy: %w", classify(err))
	}
	if err = stmt.Close(); err != nil {
		return fmt.Errorf("store: import: copy: %w", classify(err))
	}
	// Matching, in order: the same external_id; then, for the rest, the
	// oldest business with the same phone, unless both have external ids
	// (then they are different businesses). Last, a business two rows
	// matched goes to the first of them only; the other is added.
	matching := []string{
		`UPDATE import_rows r SET business_id = b.id FROM businesses b
			WHERE r.external_id <> '' AND b.external_id = r.external_id`,
		`UPDATE import_rows r SET business_id = (
				SELECT b.id FROM businesses b
				WHERE b.phone = r.phone AND (r.external_id = '' OR b.external_id IS NULL)
				ORDER BY b.created_at, b.id LIMIT 1)
			WHERE r.business_id IS NULL AND r.phone <> ''`,
		`UPDATE import_rows r SET business_id = NULL
			WHERE r.business_id IS NOT NULL AND EXISTS (
				SELECT 1 FROM import_rows e WHERE e.business_id = r.business_id AND e.line < r.line)`,
		`ANALYZE import_rows`,
	}
	for _, q := range matching {
		if _, err = tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: import: match rows: %w", classify(err))
		}
	}
	return nil
}

// updateImported updates the matched businesses and their sites, moving
// the links of a site whose URL changed (moveSiteLink), and returns how
// many businesses it updated. An empty city or phone keeps the old one.
func (s *Store) updateImported(ctx context.Context, tx *sqlx.Tx) (int, error) {
	// Lock the businesses in id order first, so a concurrent edit queues
	// instead of deadlocking against the UPDATE's own order.
	_, err := tx.ExecContext(ctx, `SELECT b.id FROM businesses b
		WHERE b.id IN (SELECT business_id FROM import_rows WHERE business_id IS NOT NULL)
		ORDER BY b.id FOR UPDATE`)
	if err != nil {
		return 0, fmt.Errorf("store: import: lock businesses: %w", classify(err))
	}
	res, err := tx.ExecContext(ctx, `UPDATE businesses b
		SET name = r.name, city = COALESCE(NULLIF(r.city, ''), b.city), phone = COALESCE(NULLIF(r.phone, ''), b.phone),
		    external_id = COALESCE(NULLIF(r.external_id, ''), b.external_id)
		FROM import_rows r WHERE b.id = r.business_id`)
	if err != nil {
		return 0, fmt.Errorf("store: import: update businesses: %w", classify(err))
	}
	updated, _ := res.RowsAffected()
	// The oldest site of each, as businessFrom shows it; the self-join
	// reads the URL before the update.
	var changed []siteChange
	err = tx.SelectContext(ctx, &changed, `UPDATE sites s SET url = r.site_url
		FROM import_rows r, sites old
		WHERE old.id = s.id AND s.url <> r.site_url AND s.id = (
			SELECT id FROM sites WHERE business_id = r.business_id ORDER BY created_at, id LIMIT 1)
		RETURNING s.business_id::text, s.id::text AS site_id, old.url AS old_url, s.url AS new_url`)
	if err != nil {
		return 0, fmt.Errorf("store: import: update sites: %w", classify(err))
	}
	for _, c := range changed {
		if err = s.moveSiteLink(ctx, tx, c); err != nil {
			return 0, err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sites (business_id, url)
		SELECT r.business_id, r.site_url FROM import_rows r
		WHERE r.business_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sites s WHERE s.business_id = r.business_id)`)
	if err != nil {
		return 0, fmt.Errorf("store: import: add sites: %w", classify(err))
	}
	return int(updated), nil
}

// insertImported adds the rows that matched no business, each with its
// site, and returns how many.
func insertImported(ctx context.Context, tx *sqlx.Tx) (int, error) {
	steps := []string{
		`UPDATE import_rows SET business_id = gen_random_uuid(), is_new = true WHERE business_id IS NULL`,
		`INSERT INTO businesses (id, name, city, phone, external_id)
			SELECT business_id, name, city, phone, NULLIF(external_id, '') FROM import_rows WHERE is_new ORDER BY line`,
		`INSERT INTO sites (business_id, url) SELECT business_id, site_url FROM import_rows WHERE is_new ORDER BY line`,
	}
	var added int64
	for i, q := range steps {
		res, err := tx.ExecContext(ctx, q)
		if err != nil {
			return 0, fmt.Errorf("store: import: add businesses: %w", classify(err))
		}
		if i == 1 {
			added, _ = res.RowsAffected()
		}
	}
	return int(added), nil
}

// replayedImport is the result of the import an earlier request made
// with idem.
func (s *Store) replayedImport(ctx context.Context, idem Idempotency) (ImportResult, error) {
	id, err := s.replayedKey(ctx, idem, ResourceImport)
	if err != nil {
		return ImportResult{}, err
	}
	var row struct {
		ImportResult
		Report []byte `db:"rejected"`
	}
	err = s.db.GetContext(ctx, &row, `SELECT id::text, imported, updated, rejected FROM business_imports WHERE id = $1`, id)
	if err != nil {
		return ImportResult{}, fmt.Errorf("store: replayed import: %w", classify(err))
	}
	res := row.ImportResult
	if err = json.Unmarshal(row.Report, &res.Rejected); err != nil {
		return ImportResult{}, fmt.Errorf("store: replayed import: %w", err)
	}
	return res, nil
}
