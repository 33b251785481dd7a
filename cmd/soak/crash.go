package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// crashResult is what a kill -9 cost: redirects served before the kill
// versus clicks that reached the database.
type crashResult struct {
	interval time.Duration
	served   int64 // 302s received
	counted  int64 // click_count added in the database
	// lastInterval is the 302s received from one flush interval before
	// the kill on: what the guarantee allows losing. withFlush adds the
	// 250 ms before that, for a flush that was under way at the kill.
	lastInterval, withFlush int64
}

func (r crashResult) lost() int64 { return r.served - r.counted }

// crashPhase measures what a crash loses. One instance serves redirects of
// slugs at full speed and is killed with SIGKILL at a random point of its
// fourth flush interval; nothing shuts it down cleanly, so what it counted
// but had not written is lost. The other instances must be stopped, so the
// database's click total moves only with this one.
func crashPhase(ctx context.Context, bin, dbURL string, slugs []string, workers int, interval time.Duration) (crashResult, error) {
	res := crashResult{interval: interval}
	before, err := sumClicks(ctx, dbURL)
	if err != nil {
		return res, err
	}
	inst, err := startInstance(bin, dbURL, 2, "CLICK_FLUSH_INTERVAL="+interval.String())
	if err != nil {
		return res, err
	}
	defer inst.kill()

	stop := make(chan struct{})
	times := make([][]time.Time, workers)
	var wg sync.WaitGroup
	for n := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				status, err := send("GET", inst.base+"/"+slugs[(n+i)%len(slugs)])
				if err != nil {
					return // the instance is gone
				}
				if status == http.StatusFound {
					times[n] = append(times[n], time.Now())
				}
			}
		})
	}
	time.Sleep(3*interval + rand.N(interval))
	killed := time.Now()
	inst.cmd.Process.Kill() // SIGKILL: no shutdown, no final flush
	<-inst.exited
	close(stop)
	wg.Wait()

	after, err := sumClicks(ctx, dbURL)
	if err != nil {
		return res, err
	}
	res.counted = after - before
	for _, ts := range times {
		res.served += int64(len(ts))
		res.lastInterval += int64(len(ts) - countBefore(ts, killed.Add(-interval)))
		res.withFlush += int64(len(ts) - countBefore(ts, killed.Add(-interval-250*time.Millisecond)))
	}
	return res, nil
}

// countBefore is how many of the ascending times ts are before t.
func countBefore(ts []time.Time, t time.Time) int {
	i, _ := slices.BinarySearchFunc(ts, t, func(a, b time.Time) int { return a.Compare(b) })
	return i
}

func sumClicks(ctx context.Context, dbURL string) (int64, error) {
	conn, err := sqlx.ConnectContext(ctx, "postgres", dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var n int64
	err = conn.GetContext(ctx, &n, `SELECT COALESCE(SUM(click_count), 0) FROM link_counters`)
	return n, err
}

// printCrash reports the kill -9 phase and fails when more was lost than
// the guarantee allows (or anything was counted twice).
func printCrash(r crashResult) error {
	fmt.Printf("\nkill -9 (CLICK_FLUSH_INTERVAL=%s): clicks served %d, counted %d, lost %d\n", r.interval, r.served, r.counted, r.lost())
	fmt.Printf("clicks served in the last flush interval before the kill: %d (%.0f%% of it lost); with a flush under way: %d\n",
		r.lastInterval, 100*float64(r.lost())/float64(max(r.lastInterval, 1)), r.withFlush)
	if r.lost() < 0 || r.lost() > r.withFlush {
		return fmt.Errorf("kill -9 lost %d clicks, more than one flush interval's %d (or counted some twice)", r.lost(), r.withFlush)
	}
	fmt.Println("kill -9: at most one flush interval lost, as documented")
	return nil
}
