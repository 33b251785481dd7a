package handlers_test

import (
	"bytes"
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
		stop     = make(chan struct{})
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
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch i % 4 {
				case 0, 1:
					n := (w + i) % 2
					resp, _ := request(t, "GET", app.URL+"/"+hot[n], iPhone)
					if resp.StatusCode == http.StatusFound {
						served[n].Add(1)
					}
					record("redirect", resp.StatusCode)
				case 2:
					req, _ := http.NewRequest("POST", app.URL+"/api/v1/links", bytes.NewBufferString(`{"destination_url":"https://repeat.example.com/"}`))
					req.Header.Set("Authorization", "Bearer "+testToken)
					status, _ := doJSON(t, req)
					if status != http.StatusOK && status != http.StatusCreated {
						lastFail.Store(time.Now().UnixNano())
					}
					record("create", status)
				case 3:
					resp, _ := request(t, "GET", app.URL+"/readyz", iPhone)
					record("readyz", resp.StatusCode)
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}

	time.Sleep(time.Second)
	if err := cluster.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	time.Sleep(6 * time.Second)
	close(stop)
	wg.Wait()

	t.Logf("statuses by operation: %v", statuses)
	for op, byStatus := range statuses {
		for status := range byStatus {
			if status >= 500 && status != http.StatusServiceUnavailable {
				t.Errorf("%s answered %d; the only 5xx allowed is 503", op, status)
			}
		}
	}
	if statuses["redirect"][http.StatusFound] == 0 || statuses["create"][http.StatusOK] == 0 {
		t.Fatalf("the load did not run: %v", statuses)
	}
	if last := time.Unix(0, lastFail.Load()); last.After(back.Add(5 * time.Second)) {
		t.Errorf("the API still failed %v after the database was back; want recovery within 5 s", last.Sub(back).Round(time.Millisecond))
	}

	app.shutdown(t)
	for i, slug := range hot {
		if clicks, _, daily := app.counts(t, slug); clicks != served[i].Load() || daily != served[i].Load() {
			t.Errorf("%s: click_count %d, daily %d; %d redirects were served", slug, clicks, daily, served[i].Load())
		}
	}
}
