// Command soak runs two shortlinks instances against one database under
// mixed traffic for a bounded time, then shuts them down gracefully and
// reports requests, errors by status, duplicate groups, clicks served versus
// counted, and each instance's memory. Then a third instance is killed with
// SIGKILL under redirect traffic, and the clicks lost are compared with one
// flush interval's worth. `make soak` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/shortlinks/shortlinks/db/localpg"
)

func main() {
	var opts options
	flag.DurationVar(&opts.Duration, "duration", 2*time.Minute, "how long to send traffic")
	flag.IntVar(&opts.Workers, "workers", 16, "concurrent clients")
	flag.StringVar(&opts.Binary, "bin", "bin/shortlinks", "shortlinks binary to run")
	flag.DurationVar(&opts.FlushInterval, "crash-flush-interval", time.Second, "CLICK_FLUSH_INTERVAL of the instance killed with SIGKILL at the end")
	flag.Parse()
	if err := run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	Duration      time.Duration
	Workers       int
	Binary        string
	FlushInterval time.Duration
}

func run(opts options) error {
	ctx := context.Background()
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		cluster, err := localpg.StartTemp(ctx)
		if err != nil {
			return err
		}
		defer cluster.Stop()
		if err := cluster.CreateDatabase(ctx, "soak"); err != nil {
			return err
		}
		dbURL = cluster.URL("soak")
	}
	var instances []*instance
	for i := range 2 {
		inst, err := startInstance(opts.Binary, dbURL, i)
		if err != nil {
			return err
		}
		defer inst.kill()
		instances = append(instances, inst)
	}
	w, err := prepare(ctx, instances[0].base, dbURL)
	if err != nil {
		return err
	}
	for _, inst := range instances {
		inst.rssStart = inst.rss()
	}
	fmt.Printf("soak: %d workers for %s against %s and %s\n", opts.Workers, opts.Duration, instances[0].base, instances[1].base)
	res := drive(ctx, w, instances, opts)
	for _, inst := range instances {
		inst.rssEnd, inst.rssPeak = inst.rss(), inst.peak()
		if err := inst.stop(); err != nil {
			return err
		}
	}
	if err := report(ctx, dbURL, res, instances, opts); err != nil {
		return err
	}
	crash, err := crashPhase(ctx, opts.Binary, dbURL, w.hot, opts.Workers, opts.FlushInterval)
	if err != nil {
		return err
	}
	return printCrash(crash)
}
