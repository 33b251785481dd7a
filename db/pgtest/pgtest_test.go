package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/shortlinks/shortlinks/migrations"
)

func TestWithDatabase(t *testing.T) {
	got, err := withDatabase("postgres://u:p@127.0.0.1:5555/postgres?sslmode=disable&x=y", "t_1")
	if want := "postgres://u:p@127.0.0.1:5555/t_1?sslmode=disable&x=y"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := withDatabase("host=localhost dbname=x", "t_1"); err == nil {
		t.Error("want an error for a key=value DSN")
	}
}

// fatalRecorder captures Fatalf, which must stop the calling goroutine.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestNewDatabase(t *testing.T) {
	server := os.Getenv(TestDatabaseEnv)
	t.Setenv(TestDatabaseEnv, "")
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); NewDatabase(rec) }()
	<-done
	if !strings.Contains(rec.msg, "make test") {
		t.Errorf("without %s: got %q, want a hint to run make test", TestDatabaseEnv, rec.msg)
	}
	if server == "" {
		t.Fatalf("%s is not set: run the tests with `make test`", TestDatabaseEnv)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	t.Setenv(TestDatabaseEnv, server)
	var dbURL string
	t.Run("use", func(t *testing.T) {
		dbURL = NewDatabase(t)
		if other := NewDatabase(t); other == dbURL {
			t.Fatal("two calls returned the same database")
		}
		db := openDB(t, dbURL) // left open on purpose: the drop must force it
		var n int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
			t.Fatalf("SELECT 1: %d, %v", n, err)
		}
	})
	name := dbURL[strings.LastIndex(dbURL, "/")+1 : strings.Index(dbURL, "?")]
	var exists bool
	err := openDB(t, server).QueryRowContext(ctx,
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil || exists {
		t.Errorf("database %s still exists after the test (%v)", name, err)
	}
}

func openDB(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A migrated database has every migration applied and is a database of its
// own: rows written in one do not appear in another.
func TestNewMigratedDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, b := openDB(t, NewMigratedDatabase(t)), openDB(t, NewMigratedDatabase(t))
	m, err := migrations.New(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx)
	if err != nil || len(st) == 0 {
		t.Fatalf("status: %v, %v", st, err)
	}
	for _, s := range st {
		if !s.Applied {
			t.Errorf("migration %s not applied", s.File)
		}
	}
	if _, err := a.ExecContext(ctx, `INSERT INTO short_links (slug, destination_url) VALUES ('only1a', 'https://a.example.com/')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRowContext(ctx, `SELECT COUNT(*) FROM short_links`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the other database holds %d links (%v), want 0", n, err)
	}
}
