package migrations_test

import (
	"context"
	"flag"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jmoiron/sqlx"

	"github.com/shortlinks/shortlinks/migrations"
)

// schemaGolden is the catalog of the original, blocking migrations 00001–00010
// (as on main before issue 17) followed by this tree's 00011–00014, migrated
// up to schemaVersion. Regenerate it, after changing 00011–00014 only, with:
//
//	rm -rf /tmp/orig && mkdir /tmp/orig && git archive 15a0990 migrations | tar -x -C /tmp/orig &&
//	  TEST_DATABASE_URL=… go test ./migrations -run TestSchemaUnchangedByOnlineRewrite \
//	    -args -golden-from=/tmp/orig/migrations
//
// (15a0990 is the last main commit before the rewrite.)
const schemaGolden = "testdata/schema_v14.golden"

// schemaVersion is the last of this migrations; later ones belong
// to other work and are not part of the comparison.
const schemaVersion = 14

var goldenFrom = flag.String("golden-from", "", "directory of the original migrations: rewrite "+schemaGolden+" from them")

// The online rewrites of 00004, 00005 and 00007 (CONCURRENTLY, NOT VALID then
// VALIDATE, batches) must reach exactly the schema the blocking originals
// reached: same tables, columns, types, defaults, indexes, constraints,
// triggers and functions, compared as the catalog prints them.
func TestSchemaUnchangedByOnlineRewrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if *goldenFrom != "" {
		writeGolden(t, *goldenFrom)
		return
	}
	want, err := os.ReadFile(schemaGolden)
	if err != nil {
		t.Fatal(err)
	}
	conn := openTestDB(t)
	m, err := migrations.New(conn.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.UpTo(ctx, schemaVersion); err != nil {
		t.Fatal(err)
	}
	got := catalog(t, conn)
	if got != string(want) {
		gotLines, wantLines := lineSet(got), lineSet(string(want))
		for l := range wantLines {
			if !gotLines[l] {
				t.Errorf("missing after the rewrite: %s", l)
			}
		}
		for l := range gotLines {
			if !wantLines[l] {
				t.Errorf("new after the rewrite: %s", l)
			}
		}
	}
}

// writeGolden migrates a fresh database with the original files of dir
// (00001–00010) and this tree's later ones, and writes its catalog.
func writeGolden(t *testing.T, dir string) {
	files := fstest.MapFS{}
	orig, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range orig {
		if strings.HasSuffix(e.Name(), ".sql") && e.Name() < "00011" {
			b, err := os.ReadFile(path.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[e.Name()] = &fstest.MapFile{Data: b}
		}
	}
	ours, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range ours {
		if name >= "00011" {
			b, _ := fs.ReadFile(migrations.FS, name)
			files[name] = &fstest.MapFile{Data: b}
		}
	}
	conn := openTestDB(t)
	m, err := migrations.NewFromFS(conn.DB, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.UpTo(context.Background(), schemaVersion); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(schemaGolden, []byte(catalog(t, conn)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s from %s", schemaGolden, dir)
}

// catalog prints the schema of the current one as sorted lines: relations,
// columns (position, type, nullability, default, generation, identity),
// indexes (definition, validity), constraints (definition, validated),
// triggers, functions (full definition) and extensions. goose's own table
// is left out.
func catalog(t *testing.T, conn *sqlx.DB) string {
	t.Helper()
	var lines []string
	err := conn.Select(&lines, `
		WITH rel AS (
			SELECT c.oid, c.relname, c.relkind FROM pg_class c
			WHERE c.relnamespace = current_schema()::regnamespace
			  AND c.relname NOT LIKE 'goose_db_version%'
		)
		SELECT format('relation %s kind=%s', relname, relkind) FROM rel WHERE relkind <> 'i'
		UNION ALL
		SELECT format('column %s.%s #%s %s notnull=%s default=%s generated=%s identity=%s',
			r.relname, a.attname, row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum),
			format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
			a.attgenerated, a.attidentity)
		FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE r.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped
		UNION ALL
		SELECT format('index %s valid=%s', pg_get_indexdef(i.indexrelid), i.indisvalid)
		FROM rel r JOIN pg_index i ON i.indrelid = r.oid
		UNION ALL
		SELECT format('constraint %s.%s %s validated=%s', r.relname, co.conname,
			pg_get_constraintdef(co.oid), co.convalidated)
		FROM rel r JOIN pg_constraint co ON co.conrelid = r.oid
		UNION ALL
		SELECT format('trigger %s enabled=%s', pg_get_triggerdef(tg.oid), tg.tgenabled)
		FROM rel r JOIN pg_trigger tg ON tg.tgrelid = r.oid
		WHERE NOT tg.tgisinternal
		UNION ALL
		SELECT format('function %s', pg_get_functiondef(p.oid))
		FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
		UNION ALL
		SELECT format('extension %s', extname) FROM pg_extension
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n") + "\n"
}

func lineSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		out[l] = true
	}
	return out
}
