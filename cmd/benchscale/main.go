// Command benchscale is `make bench-scale`: it builds (once) datasets of
// SCALE_LINKS links and of 100,000 links in a local PostgreSQL kept in
// .data/benchscale, starts the real server binary on each, and prints the
// median and p95 time of every admin page and list API side by side, so
// the growth from 100k to SCALE_LINKS is visible.
//
// The datasets are kept (one database per size), so a second run skips the
// minutes that building 10M rows takes. SCALE_DUPLICATES=1 also times the
// heal migration and its rollback on the big dataset with 1% duplicates.
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
	"github.com/shortlinks/shortlinks/migrations"
)

func main() {
	bin := flag.String("server", "bin/shortlinks", "the shortlinks binary to benchmark")
	links := flag.Int64("links", envInt("SCALE_LINKS", int64(10_000_000)), "links in the big dataset (SCALE_LINKS)")
	small := flag.Int64("small", 100_000, "links in the comparison dataset (0: none)")
	requests := flag.Int("requests", envInt("SCALE_REQUESTS", 20), "timed requests per page (SCALE_REQUESTS, at least 5)")
	dups := flag.Bool("duplicates", os.Getenv("SCALE_DUPLICATES") == "1", "time the heal migration and its rollback with 1% duplicates (SCALE_DUPLICATES=1)")
	export := flag.Bool("export", os.Getenv("SCALE_EXPORT") != "0", "time the full CSV export (SCALE_EXPORT=0 skips it)")
	dir := flag.String("dir", filepath.Join(".data", "benchscale"), "where the local PostgreSQL keeps the datasets")
	keep := flag.Bool("keep", false, "leave the local PostgreSQL running afterwards (for EXPLAIN in psql)")
	addr := flag.String("addr", os.Getenv("SCALE_ADDR"), "where the server under test listens (SCALE_ADDR; default a free port on 127.0.0.1)")
	pgPort := flag.Int("pg-port", envInt("SCALE_PG_PORT", 0), "the local PostgreSQL's port (SCALE_PG_PORT; default a free one, kept between runs)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, options{bin: *bin, links: *links, small: *small, requests: max(*requests, 5),
		duplicates: *dups, export: *export, dir: *dir, keep: *keep, addr: *addr, pgPort: *pgPort}); err != nil {
		fmt.Fprintln(os.Stderr, "bench-scale:", err)
		os.Exit(1)
	}
}

type options struct {
	bin          string
	links, small int64
	requests     int
	duplicates   bool
	export       bool
	dir          string
	keep         bool
	addr         string // the server's listen address; "" for a free port
	pgPort       int    // the local PostgreSQL's port; 0 for a free one
}

func run(ctx context.Context, o options) error {
	cluster, err := startCluster(ctx, o.dir, o.pgPort)
	if err != nil {
		return err
	}
	if !o.keep {
		defer cluster.Stop()
	}
	sizes := []int64{o.links}
	if o.small > 0 && o.small != o.links {
		sizes = []int64{o.small, o.links}
	}
	var results []sizeResult
	for _, n := range sizes {
		url, err := dataset(ctx, cluster, n)
		if err != nil {
			return fmt.Errorf("dataset of %d links: %w", n, err)
		}
		if o.duplicates && n == o.links {
			if err := timeHeal(ctx, url, n); err != nil {
				return fmt.Errorf("heal timing: %w", err)
			}
		}
		fmt.Fprintf(os.Stderr, "measuring %d links\n", n)
		r, err := measureSize(ctx, o, url, n)
		if err != nil {
			return fmt.Errorf("measuring %d links: %w", n, err)
		}
		results = append(results, r)
	}
	printReport(os.Stdout, o, results)
	return nil
}

// startCluster starts (or reuses) the local cluster and gives it settings
// fit for a 10M-row dataset. They are written with ALTER SYSTEM, so only
// the first run restarts the server.
func startCluster(ctx context.Context, dir string, port int) (*localpg.Cluster, error) {
	start, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cluster, err := localpg.Start(start, dir)
	if err != nil {
		return nil, err
	}
	if port != 0 && cluster.Port != port {
		// A port of its own on a shared machine; localpg keeps it for the
		// next run.
		if err := cluster.StopServer(); err != nil {
			return nil, err
		}
		cluster.Port = port
		if err := cluster.StartServer(start); err != nil {
			return nil, err
		}
	}
	conn, err := sql.Open("postgres", cluster.URL("postgres"))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	settings := [][2]string{
		{"shared_buffers", "4GB"}, {"effective_cache_size", "12GB"}, {"work_mem", "32MB"},
		{"maintenance_work_mem", "1GB"}, {"max_wal_size", "16GB"}, {"checkpoint_timeout", "30min"},
		// minimal WAL lets the generator's TRUNCATE-then-load skip the WAL.
		{"wal_level", "minimal"}, {"max_wal_senders", "0"}, {"random_page_cost", "1.1"},
	}
	restart := false
	for _, s := range settings {
		var want string
		err := conn.QueryRowContext(ctx, `SELECT COALESCE((SELECT setting FROM pg_file_settings
			WHERE name = $1 AND sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno DESC LIMIT 1), '')`, s[0]).Scan(&want)
		if err != nil {
			return nil, err
		}
		if want == s[1] {
			continue
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER SYSTEM SET %s = '%s'`, s[0], s[1])); err != nil {
			return nil, err
		}
		restart = true
	}
	if restart {
		fmt.Fprintln(os.Stderr, "bench-scale: restarting the local PostgreSQL with dataset settings")
		if err := cluster.Restart(start); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(os.Stderr, "bench-scale: PostgreSQL in %s on port %d\n", cluster.DataDir, cluster.Port)
	return cluster, nil
}

// dataset returns the URL of the database holding n links, building it
// first unless an earlier run did.
func dataset(ctx context.Context, cluster *localpg.Cluster, n int64) (string, error) {
	name := "scale_" + strconv.FormatInt(n, 10)
	if err := cluster.CreateDatabase(ctx, name); err != nil {
		return "", err
	}
	url := cluster.URL(name)
	conn, err := sql.Open("postgres", url)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Migrating first also brings a kept dataset up to the current schema;
	// out of order (as the migrator always does), so a heal timing cut
	// short (the fix rolled back, later migrations kept) is finished here.
	p, err := migrations.New(conn, nil)
	if err != nil {
		return "", err
	}
	if _, err := p.Up(ctx); err != nil {
		return "", err
	}
	ready, err := datasetReady(ctx, conn)
	if err != nil {
		return "", err
	}
	if ready {
		fmt.Fprintf(os.Stderr, "bench-scale: reusing the dataset of %d links (database %s)\n", n, name)
		return url, syncIdentity(ctx, conn) // datasets of earlier versions lacked it
	}
	fmt.Fprintf(os.Stderr, "bench-scale: building %d links (database %s); this is done once\n", n, name)
	start := time.Now()
	if err := generate(ctx, conn, n); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "bench-scale: built %d links in %s\n", n, time.Since(start).Round(time.Second))
	return url, nil
}

func envInt[T int | int64](name string, def T) T {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && v > 0 {
		return T(v)
	}
	return def
}
