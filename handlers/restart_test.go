package handlers_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db/localpg"
)

// PostgreSQL restarts in the middle of mixed load (redirects, get-or-create,
// readiness probes). Nothing answers a 5xx other than 503, the API works
// again within 5 s of the database's return without a restart of ours, and
// after shutdown every redirect served is counted exactly once.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster, err := localpg.StartTemp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	url := cluster.URL("postgres")
	migrateDatabase(t, url)
	app := newTestAppOn(t, url)
	hot := []string{app.link(t, "https://a.example.com/").Slug, app.link(t, "https://b.example.com/").Slug}
	app.waitForFeed(t)

	var (
		served   [2]atomic.Int64 // 302s per hot link
		mu       sync.Mutex
		statuses = map[string]map[int]int{}
		lastFail atomic.Int64 // unix nanos of the latest failed API call
		okAfter  atomic.Int64 // API calls answered 2xx since the database came back
		back     atomic.Int64 // unix nanos of the database's return; 0 before
		stop     = make(chan struct{})
		errs     = make(chan error, 6)
		wg       sync.WaitGroup
	)
	record := func(op string, status int) {
		mu.Lock()
		defer mu.Unlock()
		if statuses[op] == nil {
			statuses[op] = map[int]int{}
		}
		statuses[op][status]++
	}
	count := func(op string, status int) int {
		mu.Lock()
		defer mu.Unlock()
		return statuses[op][status]
	}
	// step is one request of a worker; an error (the HTTP server itself
	// failing) goes back to the test goroutine, never to t.Fatal here.
	step := func(w, i int) error {
		switch i % 4 {
		case 0, 1:
			n := (w + i) % 2
			resp, _, err := tryRequest("GET", app.URL+"/"+hot[n], iPhone)
			if err != nil {
				return err
			}
			if resp.StatusCode == http.StatusFound {
				served[n].Add(1)
			}
			record("redirect", resp.StatusCode)
		case 2:
			started := time.Now().UnixNano()
			status, _, err := tryJSON(app.apiRequest("POST", "/api/v1/links", map[string]any{"destination_url": "https://repeat.example.com/"}))
			if err != nil {
				return err
			}
			if status != http.StatusOK && status != http.StatusCreated {
				lastFail.Store(time.Now().UnixNano())
			} else if b := back.Load(); b != 0 && started > b {
				okAfter.Add(1)
			}
			record("create", status)
		case 3:
			resp, _, err := tryRequest("GET", app.URL+"/readyz", iPhone)
			if err != nil {
				return err
			}
			record("readyz", resp.StatusCode)
		}
		return nil
	}
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := step(w, i); err != nil {
					errs <- err
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	finish := func() {
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("worker: %v", err)
		}
	}

	// The load is under way once every kind of call has succeeded.
	running := pollUntil(10*time.Second, func() bool {
		return count("redirect", http.StatusFound) > 0 && count("create", http.StatusOK)+count("create", http.StatusCreated) > 0 &&
			count("readyz", http.StatusOK) > 0
	})
	if !running {
		finish()
		t.Fatalf("the load did not run: %v", statuses)
	}
	if err := cluster.Restart(ctx); err != nil {
		finish()
		t.Fatal(err)
	}
	back.Store(time.Now().UnixNano())
	// Recovered once API calls started after the return keep succeeding;
	// the check below says whether that took more than 5 s.
	pollUntil(10*time.Second, func() bool { return okAfter.Load() >= 20 })
	finish()
	if t.Failed() {
		return
	}

	t.Logf("statuses by operation: %v", statuses)
	for op, byStatus := range statuses {
		for status := range byStatus {
			if status >= 500 && status != http.StatusServiceUnavailable {
				t.Errorf("%s answered %d; the only 5xx allowed is 503", op, status)
			}
		}
	}
	if okAfter.Load() < 20 {
		t.Errorf("only %d API calls succeeded in the 10 s after the database was back", okAfter.Load())
	}
	backAt := time.Unix(0, back.Load())
	if last := time.Unix(0, lastFail.Load()); last.After(backAt.Add(5 * time.Second)) {
		t.Errorf("the API still failed %v after the database was back; want recovery within 5 s", last.Sub(backAt).Round(time.Millisecond))
	}

	app.shutdown(t)
	for i, slug := range hot {
		if clicks, _, daily := app.counts(t, slug); clicks != served[i].Load() || daily != served[i].Load() {
			t.Errorf("%s: click_count %d, daily %d; %d redirects were served", slug, clicks, daily, served[i].Load())
		}
	}
}
