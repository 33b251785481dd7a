// Command bench measures the redirect path against the fastest redirect Echo
// can serve, in one run on one machine, and checks that every click served
// was counted exactly once:
//
//	make bench          (= go run ./cmd/bench -server bin/shortlinks)
//
// It starts the real `shortlinks serve` binary on a fresh database (a
// throwaway PostgreSQL unless DATABASE_URL or TEST_DATABASE_URL names a
// server, on which it creates and later drops a database of its own) and,
// as separate processes built from this same binary, a constant-302 Echo
// server and a constant-302 net/http server. Hot round: wrk rounds against
// each (the order rotates every round), requests/s, p50/p99, CPU of wrk and
// of the server, the medians of the per-round ratios, and the server's
// resident memory; net/http coming out at least level with Echo shows wrk
// was not the limit. Cold round: a million bulk-inserted links redirected
// at random by a second server whose cache holds none of them, against
// pgbench -S on the same PostgreSQL. Then it sends an exactly known number
// of redirects to a second link, stops the server with SIGTERM, and
// compares the click counts in the database with what was served.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// settings are the command-line flags.
type settings struct {
	server      string // path of the shortlinks binary
	wrk         string
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	connections int
	threads     int
	exactConns  int
	exactEach   int
	coldLinks   int
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-const302" {
		runConst302(os.Args[2]) // the baseline servers, re-executed from this binary
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-nethttp302" {
		runNetHTTP302(os.Args[2])
		return
	}
	var s settings
	flag.StringVar(&s.server, "server", "bin/shortlinks", "shortlinks binary to benchmark (make bench builds it)")
	flag.StringVar(&s.wrk, "wrk", "wrk", "wrk binary")
	flag.IntVar(&s.rounds, "rounds", 10, "rounds per target; medians are reported")
	flag.DurationVar(&s.duration, "duration", 3*time.Second, "length of one run (short runs, many rounds: a shared machine's load drifts less within a round)")
	flag.DurationVar(&s.warmup, "warmup", 2*time.Second, "unreported warm-up per target")
	flag.IntVar(&s.connections, "c", 64, "concurrent connections")
	flag.IntVar(&s.threads, "t", 2, "wrk threads (one can be the bottleneck; the machine's cores are shared with the servers)")
	flag.IntVar(&s.exactConns, "exact-clients", 64, "clients of the exact-count check")
	flag.IntVar(&s.exactEach, "exact-each", 500, "redirects per client in the exact-count check")
	flag.IntVar(&s.coldLinks, "cold-links", 1_000_000, "links of the cold round (0 skips it)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, s)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings) error {
	dbURL, dropDB, err := freshDatabase(ctx)
	if err != nil {
		return err
	}
	defer dropDB()
	app, err := startShortlinks(ctx, s.server, dbURL)
	if err != nil {
		return err
	}
	defer app.kill()
	echo302, err := startBaseline(ctx, "-const302")
	if err != nil {
		return err
	}
	defer echo302.kill()
	net302, err := startBaseline(ctx, "-nethttp302")
	if err != nil {
		return err
	}
	defer net302.kill()

	hot, err := app.createLink(ctx, "https://shop.example.com/spring-sale?utm_source=sms&utm_campaign=bench")
	if err != nil {
		return err
	}
	exact, err := app.createLink(ctx, "https://shop.example.com/exact-count-check")
	if err != nil {
		return err
	}
	targets := []target{
		{name: "shortlinks /{slug} (counting on)", url: app.base + "/" + hot, pid: app.cmd.Process.Pid},
		{name: "constant-302 Echo handler", url: echo302.base + "/" + hot, pid: echo302.cmd.Process.Pid},
		{name: "constant-302 net/http handler", url: net302.base + "/" + hot, pid: net302.cmd.Process.Pid},
	}
	mem := watchMemory(app.cmd.Process.Pid)
	results, err := measure(ctx, s, targets)
	if err != nil {
		return err
	}
	peakRSS := mem.stop()
	var cold []targetResult
	if s.coldLinks > 0 {
		if cold, err = coldRound(ctx, s, dbURL); err != nil {
			return err
		}
	}

	served, err := exactRedirects(ctx, app.base+"/"+exact, s.exactConns, s.exactEach)
	if err != nil {
		return err
	}
	hwm := memoryHighWater(app.cmd.Process.Pid)
	closed, err := app.terminate()
	if err != nil {
		return err
	}
	counts, err := clickCounts(ctx, dbURL, hot, exact)
	if err != nil {
		return err
	}
	report(os.Stdout, s, results, memory{peakRSS: peakRSS, highWater: hwm}, accounting{
		wrkRedirects:   sumRedirects(results[0]),
		hotCounted:     counts[hot],
		exactServed:    served,
		exactCounted:   counts[exact],
		serverCounted:  closed.Clicks,
		serverFlushed:  closed.ClicksFlushed,
		serverDropped:  closed.DroppedClicks,
		connectionsCap: int64(s.connections) * int64(len(targets)*s.rounds+1),
	})
	if cold != nil {
		reportCold(os.Stdout, s, cold)
	}
	return nil
}

// coldRound loads s.coldLinks links, starts a second server whose cache
// holds 1,000 slugs (so nearly every redirect is a lookup), and measures
// it against pgbench -S on the same PostgreSQL.
func coldRound(ctx context.Context, s settings, dbURL string) ([]targetResult, error) {
	start := time.Now()
	if err := insertColdLinks(ctx, dbURL, s.coldLinks); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "bench: %d links inserted in %s\n", s.coldLinks, time.Since(start).Round(time.Second))
	pgURL, dropPG, err := pgbenchDatabase(ctx, dbURL, 10)
	if err != nil {
		return nil, err
	}
	defer dropPG()
	app, err := startShortlinks(ctx, s.server, dbURL, "LINK_CACHE_SIZE=1000", "MIGRATE_ON_START=false")
	if err != nil {
		return nil, err
	}
	defer app.kill()
	dir, err := os.MkdirTemp("", "bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script, err := coldScript(dir, s.coldLinks)
	if err != nil {
		return nil, err
	}
	return measure(ctx, s, []target{
		{name: "shortlinks /{slug}, uncached (LINK_CACHE_SIZE=1000)", url: app.base, script: script, pid: app.cmd.Process.Pid},
		pgbenchTarget(pgURL),
	})
}
