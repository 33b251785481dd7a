package db_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/migrations"
)

// openTestDB connects to a fresh, empty database of the test cluster.
func openTestDB(t *testing.T) *sqlx.DB {
	t.Helper()
	conn, err := db.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// newTestStore returns a Store over a fresh, fully migrated database.
func newTestStore(t *testing.T, opts db.Options) *db.Store {
	t.Helper()
	conn := openTestDB(t)
	m, err := migrations.New(conn.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	return db.New(conn, opts)
}

func countActive(t *testing.T, s *db.Store, url string) int {
	t.Helper()
	var n int
	if err := s.DB().Get(&n, `SELECT COUNT(*) FROM short_links WHERE destination_url = $1 AND is_active`, url); err != nil {
		t.Fatal(err)
	}
	return n
}
