// Command bench measures the redirect path against the fastest redirect Echo
// can serve, in one run on one machine, and checks that every click served
// was counted exactly once:
//
//	make bench          (= go run ./cmd/bench -server bin/shortlinks)
//
// It starts the real `shortlinks serve` binary on a fresh database (a
// throwaway PostgreSQL unless DATABASE_URL or TEST_DATABASE_URL names a
// server, on which it creates and later drops a database of its own) and,
// as a separate process, a constant-302 Echo server built from this same
// binary. It alternates wrk rounds against each (the order flips every
// round), prints requests/s and p50/p99 latency as medians with the ratio,
// and the server's resident memory. Then it sends an exactly known number
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
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-const302" {
		runConst302(os.Args[2]) // the baseline server, re-executed from this binary
		return
	}
	var s settings
	flag.StringVar(&s.server, "server", "bin/shortlinks", "shortlinks binary to benchmark (make bench builds it)")
	flag.StringVar(&s.wrk, "wrk", "wrk", "wrk binary")
	flag.IntVar(&s.rounds, "rounds", 6, "rounds per target; medians are reported")
	flag.DurationVar(&s.duration, "duration", 5*time.Second, "length of one run")
	flag.DurationVar(&s.warmup, "warmup", 3*time.Second, "unreported warm-up per target")
	flag.IntVar(&s.connections, "c", 64, "concurrent connections")
	flag.IntVar(&s.threads, "t", 1, "wrk threads (the machine's cores are shared with the servers)")
	flag.IntVar(&s.exactConns, "exact-clients", 64, "clients of the exact-count check")
	flag.IntVar(&s.exactEach, "exact-each", 500, "redirects per client in the exact-count check")
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
	base, err := startConst302(ctx)
	if err != nil {
		return err
	}
	defer base.kill()

	hot, err := app.createLink(ctx, "https://shop.example.com/spring-sale?utm_source=sms&utm_campaign=bench")
	if err != nil {
		return err
	}
	exact, err := app.createLink(ctx, "https://shop.example.com/exact-count-check")
	if err != nil {
		return err
	}
	targets := []target{
		{name: "shortlinks /{slug} (counting on)", url: app.base + "/" + hot},
		{name: "constant-302 Echo handler", url: base.base + "/" + hot},
	}
	mem := watchMemory(app.cmd.Process.Pid)
	results, err := measure(ctx, s, targets)
	if err != nil {
		return err
	}
	peakRSS := mem.stop()

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
		connectionsCap: int64(s.connections) * int64(2*s.rounds+1),
	})
	return nil
}
