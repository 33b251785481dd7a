// Command benchupgrade (make bench-upgrade) upgrades a database from schema
// version 3 to the latest while links are being redirected, created and
// counted, and prints for each kind of operation the longest single wait and
// the errors, and how long each migration step took:
//
//  1. build a database at version 3 with -links links, 1% of them duplicates
//     of another link's destination (plain SQL inserts, like a real v3 table);
//  2. `migrate up` (which heals the duplicates and builds the unique index
//     CONCURRENTLY) under load: cold redirects and click flushes issued as
//     the statements a server of that schema runs (a server of today's code
//     cannot serve a version-3 schema), creates through today's
//     db.Store.GetOrCreateLink (its locked path while the index is missing);
//  3. a server (the built binary) on the upgraded database under HTTP load
//     (cold redirects, creates) plus click flushes, while the unique index is
//     dropped and `shortlinks heal` rebuilds it: the console heal's code;
//  4. `migrate down-to 3` and `migrate up` again, under load as in 2.
//
// The database is created on the PostgreSQL server of -database-url (a
// fresh database named benchupgrade) or, without one, on a private cluster
// in .data/benchupgrade.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	_ "github.com/lib/pq"

	"github.com/shortlinks/shortlinks/db/localpg"
)

func main() {
	links := flag.Int64("links", envInt("UPGRADE_LINKS", 10_000_000), "links in the version-3 database (UPGRADE_LINKS)")
	bin := flag.String("server", "bin/shortlinks", "the shortlinks binary (step 3)")
	addr := flag.String("addr", "127.0.0.1:18200", "where the step-3 server listens")
	dbURL := flag.String("database-url", os.Getenv("UPGRADE_DATABASE_URL"), "a PostgreSQL server to create the database on (UPGRADE_DATABASE_URL); empty: a private cluster in .data/benchupgrade")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *links, *bin, *addr, *dbURL); err != nil {
		fmt.Fprintln(os.Stderr, "bench-upgrade:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, links int64, bin, addr, serverURL string) error {
	if serverURL == "" {
		start, cancel := context.WithTimeout(ctx, 2*time.Minute)
		cluster, err := localpg.Start(start, filepath.Join(".data", "benchupgrade"))
		cancel()
		if err != nil {
			return err
		}
		defer cluster.Stop()
		serverURL = cluster.URL("postgres")
	}
	url, err := freshDatabase(ctx, serverURL, "benchupgrade")
	if err != nil {
		return err
	}
	conn, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(20)

	t0 := time.Now()
	if err := buildVersion3(ctx, conn, links); err != nil {
		return fmt.Errorf("building the version-3 database: %w", err)
	}
	fmt.Printf("bench-upgrade: %d links at schema version 3, %d of them duplicates (1%%), built in %s\n",
		links, links/100, time.Since(t0).Round(time.Second))
	fmt.Println("figures: loaded machine, 8 engineers sharing 2 cores")

	if err := underSQLLoad(ctx, url, links, "migrate up from version 3 (heal + unique index)", func() error {
		return migrateStep(ctx, conn, "up", 0)
	}); err != nil {
		return err
	}
	if err := healUnderServerLoad(ctx, url, links, bin, addr); err != nil {
		return err
	}
	if err := underSQLLoad(ctx, url, links, "migrate down-to 3", func() error {
		return migrateStep(ctx, conn, "down-to", 3)
	}); err != nil {
		return err
	}
	return underSQLLoad(ctx, url, links, "migrate up again", func() error {
		return migrateStep(ctx, conn, "up", 0)
	})
}

// freshDatabase drops and creates database name on the server of base and
// returns its URL.
func freshDatabase(ctx context.Context, base, name string) (string, error) {
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", err
	}
	return withDatabase(base, name)
}

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}
