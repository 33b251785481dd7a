package db_test

import (
	"context"
	"testing"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
)

// newTestStore returns a Store over a fresh, fully migrated database.
func newTestStore(t testing.TB, opts db.Options) *db.Store {
	t.Helper()
	conn, err := db.Open(context.Background(), pgtest.NewMigratedDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
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
