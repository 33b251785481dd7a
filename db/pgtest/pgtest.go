// Package pgtest gives each test a throwaway PostgreSQL database. It is the
// only non-test package that imports "testing", and only tests import it, so
// the production binary never links the testing package (see
// docs/architecture.md).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/shortlinks/shortlinks/db/localpg"
)

// TestDatabaseEnv names the environment variable holding the URL of the
// PostgreSQL server tests run against; cmd/withpg sets it (see `make test`).
const TestDatabaseEnv = localpg.TestDatabaseEnv

// NewDatabase creates a fresh, uniquely named database on the server at
// $TEST_DATABASE_URL, drops it when the test ends, and returns its URL. Each
// test getting its own database keeps parallel tests and packages from
// seeing each other's rows.
//
// Without TEST_DATABASE_URL the test fails rather than skips: silently
// skipped database tests look like passing ones. There is deliberately no
// default such as localhost:5432, which could be someone's real database.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, serverURL(t), "")
}

// NewMigratedDatabase is NewDatabase with every migration applied. The
// database is a copy of a template migrated once per set of migrations
// (CREATE DATABASE … TEMPLATE), which is much cheaper than migrating each
// test's database. The template, named after a hash of the migration files,
// stays on the server for the next run; with `make test` the whole server
// is thrown away anyway.
func NewMigratedDatabase(t testing.TB) string {
	t.Helper()
	base := serverURL(t)
	tmpl, err := migratedTemplate(base)
	if err != nil {
		t.Fatalf("migrated template database: %v", err)
	}
	return newDatabase(t, base, tmpl)
}

// serverURL is $TEST_DATABASE_URL, or the test fails.
func serverURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(TestDatabaseEnv)
	if base == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts a throwaway PostgreSQL (or: go run ./cmd/withpg -- go test ./...)", TestDatabaseEnv)
	}
	return base
}

// newDatabase creates a database on base, a copy of template when it is
// not empty, and drops it when the test ends.
func newDatabase(t testing.TB, base, template string) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	name := "t_" + hex.EncodeToString(b[:])
	dbURL, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("%s: %v", TestDatabaseEnv, err)
	}
	create := "CREATE DATABASE " + pq.QuoteIdentifier(name)
	if template != "" {
		create += " TEMPLATE " + pq.QuoteIdentifier(template)
		if fileCopy(base) {
			create += " STRATEGY FILE_COPY"
		}
	}
	if err := adminExec(base, create); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE ends connections a test forgot to close, which would
		// otherwise make the drop fail.
		err := adminExec(base, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
		if err != nil {
			// Only a leftover in a throwaway server: not worth failing for.
			t.Logf("dropping test database %s: %v", name, err)
		}
	})
	return dbURL
}

// fileCopies holds, per server URL, whether it copies a template file by
// file (CREATE DATABASE … STRATEGY FILE_COPY, PostgreSQL 15 and later)
// rather than block by block through the write-ahead log, the default
// since 15: 0.032 against 0.073–0.088 CPU-s of the server per test
// database created and dropped, from the migrated template, on a 2-core
// VM (docs/testing.md, eighth pass). The log-free copy costs a checkpoint,
// which a throwaway server with fsync off makes cheap.
var fileCopies sync.Map // string → bool

func fileCopy(base string) bool {
	if v, ok := fileCopies.Load(base); ok {
		return v.(bool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var version int
	err := adminPool(base).QueryRowContext(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version)
	// A failed query means the default strategy for the rest of this test
	// binary: slower, never wrong.
	ok := err == nil && version >= 150000
	fileCopies.Store(base, ok)
	return ok
}

// withDatabase returns base with its database name replaced, keeping host,
// port, user, password and parameters.
func withDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", fmt.Errorf("want a postgres:// URL, got %q", u.Redacted())
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), nil
}

// adminExec runs one statement on the server's admin pool, independent of
// the test's context, which is already cancelled when cleanups run.
func adminExec(dbURL, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := adminPool(dbURL).ExecContext(ctx, stmt)
	return err
}

// adminPools holds, per server URL, the connections this test binary
// creates and drops its databases with. They stay open until the process
// exits: a new PostgreSQL connection is a new server process, which costs
// tens of milliseconds of CPU on a small VM, twice per test database when
// each statement had a connection of its own.
var adminPools sync.Map // string → *sql.DB

func adminPool(dbURL string) *sql.DB {
	if db, ok := adminPools.Load(dbURL); ok {
		return db.(*sql.DB)
	}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		// sql.Open fails only for an unknown driver, and lib/pq is linked.
		panic(err)
	}
	db.SetMaxIdleConns(4)
	if prev, loaded := adminPools.LoadOrStore(dbURL, db); loaded {
		db.Close()
		return prev.(*sql.DB)
	}
	return db
}
