package db_test

import (
	"context"
	"testing"
	"time"

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

// waitForLockWaiter waits until a session of the test's database is
// waiting for a lock while running a statement containing text ("" for
// any); who names the waiter in the failure.
func waitForLockWaiter(t *testing.T, s *db.Store, text, who string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var n int
		err := s.DB().Get(&n, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, $1) > 0`, text)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatalf("%s never came to wait for a lock", who)
}
