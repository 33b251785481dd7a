package pgtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/shortlinks/shortlinks/migrations"
)

// templateLock is the advisory lock key under which test binaries (one per
// package, running at once) check for and build the template. goose's own
// lock uses another key.
const templateLock = 0x73686f72746c6e6b // "shortlnk"

// templates holds, per server URL, the template built by this process.
var templates sync.Map // string → *templateOnce

type templateOnce struct {
	once sync.Once
	name string
	err  error
}

// migratedTemplate returns the name of a fully migrated database on the
// server at base, building it the first time any test binary asks.
func migratedTemplate(base string) (string, error) {
	v, _ := templates.LoadOrStore(base, &templateOnce{})
	o := v.(*templateOnce)
	o.once.Do(func() { o.name, o.err = buildTemplate(base) })
	return o.name, o.err
}

// buildTemplate creates the template unless another binary already has.
// It is migrated under a temporary name and renamed when complete, so a
// run killed halfway leaves nothing that looks finished.
func buildTemplate(base string) (string, error) {
	name, err := templateName()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pool, err := sql.Open("postgres", base)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	conn, err := pool.Conn(ctx) // the session lock needs one connection
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, templateLock); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, templateLock)

	var exists bool
	err = conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil || exists {
		return name, err
	}
	building := name + "_building"
	for _, stmt := range []string{
		"DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(building) + " WITH (FORCE)",
		"CREATE DATABASE " + pq.QuoteIdentifier(building),
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return "", err
		}
	}
	if err := migrate(ctx, base, building); err != nil {
		return "", fmt.Errorf("migrating %s: %w", building, err)
	}
	// RENAME waits (up to 5 s) for the migration's connections to end.
	_, err = conn.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(building)+" RENAME TO "+pq.QuoteIdentifier(name))
	return name, err
}

func migrate(ctx context.Context, base, name string) error {
	url, err := withDatabase(base, name)
	if err != nil {
		return err
	}
	conn, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer conn.Close()
	m, err := migrations.New(conn, nil)
	if err != nil {
		return err
	}
	_, err = m.Up(ctx)
	return err
}

// templateName is "tmpl_" and a hash of every migration file, so a changed
// or added migration gets a template of its own.
func templateName() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return err
	})
	return "tmpl_" + hex.EncodeToString(h.Sum(nil)[:8]), err
}
