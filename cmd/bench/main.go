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
// was not the limit. Cold rounds: a million bulk-inserted links redirected
// at random by servers whose cache holds none of them, against pgbench -S
// on the same PostgreSQL, rotating: one server whose counting stops at its
// bound (the lookup path alone), one counting and flushing every click as
// in production (a million distinct links: nearly every tap is a row of
// its own); before every run the clicks of the earlier runs are let finish
// flushing, so no run pays for another's writes. Then it sends an exactly
// known number of redirects to a second link, stops the server with
// SIGTERM, and compares the click counts in the database with what was
// served.
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
	pgbenchRamp time.Duration
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
	flag.DurationVar(&s.pgbenchRamp, "pgbench-ramp", 6*time.Second, "unreported seconds at the start of every pgbench run, while its 16 new server processes warm up")
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
	var cold *coldResults
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
		reportCold(os.Stdout, s, cold, results[1])
	}
	return nil
}

// coldResults are the cold rounds: the targets measured in rotation (the
// lookup-only server, the counting server, pgbench) and pgbench run alone
// before them, the reference for the rotated pgbench runs.
type coldResults struct {
	lookups, counting, pgbench targetResult
	alone                      wrkRun
	flushedDuringLookups       int64 // clicks the lookup-only server wrote (should stay at its bound, 1 row)
	// counted is what the cold links' counters hold: every click the two
	// servers say they wrote, or the round fails.
	counted int64
	// missesPerStatement is, per server, cache misses over the lookup
	// statements they took (0 when the server does not report them).
	missesPerStatement [2]float64
}

// coldRound loads s.coldLinks links and starts two more servers whose
// caches hold 1,000 slugs (so nearly every redirect is a lookup): one with
// MAX_PENDING_CLICKS=1, whose counting stops at that bound and so writes
// (nearly) nothing, and one with production counting. It measures both
// against pgbench -S on the same PostgreSQL; before each run it waits until
// the counting server has written every click (its /metrics), so pgbench
// and the lookup-only server never run while another round's clicks are
// still being flushed.
func coldRound(ctx context.Context, s settings, dbURL string) (*coldResults, error) {
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
	lookups, err := startShortlinks(ctx, s.server, dbURL, "LINK_CACHE_SIZE=1000", "MIGRATE_ON_START=false", "MAX_PENDING_CLICKS=1")
	if err != nil {
		return nil, err
	}
	defer lookups.kill()
	counting, err := startShortlinks(ctx, s.server, dbURL, "LINK_CACHE_SIZE=1000", "MIGRATE_ON_START=false")
	if err != nil {
		return nil, err
	}
	defer counting.kill()
	dir, err := os.MkdirTemp("", "bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script, err := coldScript(dir, s.coldLinks)
	if err != nil {
		return nil, err
	}
	pg := pgbenchTarget(pgURL, s.pgbenchRamp)
	alone, err := pg.run(ctx, s.duration)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "bench: pgbench alone, before any cold redirect: %.0f tps\n", alone.perSecond)
	settle := func(ctx context.Context) error { return counting.waitFlushed(ctx, time.Minute) }
	acct, err := newCPUAccount(dbURL, settle)
	if err != nil {
		return nil, err
	}
	defer acct.close()
	results, err := measureSettled(ctx, s, []target{
		{name: "cold, lookups alone (MAX_PENDING_CLICKS=1)", url: lookups.base, script: script, pid: lookups.cmd.Process.Pid, account: acct},
		{name: "cold, clicks counted and flushed every 1 s", url: counting.base, script: script, pid: counting.cmd.Process.Pid, account: acct},
		pg,
	}, settle)
	if err != nil {
		return nil, err
	}
	if err := settle(ctx); err != nil {
		return nil, err
	}
	// The lookup-only server's one pending row too, or it could land
	// between reading its metric and the counters below.
	if err := lookups.waitFlushed(ctx, time.Minute); err != nil {
		return nil, err
	}
	flushed, err := lookups.metric(ctx, "shortlinks_clicks_flushed_total")
	if err != nil {
		return nil, err
	}
	c := &coldResults{lookups: results[0], counting: results[1], pgbench: results[2], alone: alone,
		flushedDuringLookups: int64(flushed)}
	// Every click the two servers say they wrote must be on a cold link's
	// counters: a flush that skipped links would read as fast and count
	// nothing.
	written, err := counting.metric(ctx, "shortlinks_clicks_flushed_total")
	if err != nil {
		return nil, err
	}
	if c.counted, err = coldCounted(ctx, dbURL); err != nil {
		return nil, err
	}
	if int64(written+flushed) != c.counted {
		return nil, fmt.Errorf("cold round: the servers wrote %.0f clicks, the cold links' counters hold %d", written+flushed, c.counted)
	}
	for i, p := range []*process{lookups, counting} {
		misses, err1 := p.metric(ctx, "shortlinks_redirect_cache_misses_total")
		stmts, err2 := p.metric(ctx, "shortlinks_redirect_lookup_statements_total")
		if err1 == nil && err2 == nil && stmts > 0 {
			c.missesPerStatement[i] = misses / stmts
		}
	}
	return c, nil
}
