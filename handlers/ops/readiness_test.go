package ops

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// readyServer serves /readyz over a real (unmigrated) database, with the
// readiness ping counted (and failing while fail is set). Nothing else is
// built: the operations handlers need no background task.
func readyServer(t *testing.T) (url string, pings *atomic.Int64, fail *atomic.Bool) {
	t.Helper()
	conn, err := db.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	store := db.New(conn, db.Options{})
	h := New(web.NewBase(store, web.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	pings, fail = &atomic.Int64{}, &atomic.Bool{}
	h.ready.ping = func(ctx context.Context) error {
		pings.Add(1)
		if fail.Load() {
			return errors.New("database unreachable (simulated)")
		}
		return store.Ping(ctx)
	}
	e := echo.New()
	e.GET("/readyz", h.Readyz)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL, pings, fail
}

// A flood of /readyz costs the database at most one ping per second.
func TestReadyzFloodPingsAtMostOncePerSecond(t *testing.T) {
	t.Parallel()
	url, pings, _ := readyServer(t)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			for range 50 {
				resp, err := http.Get(url + "/readyz")
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- errors.New(resp.Status)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Fatalf("/readyz during the flood: %v", err)
	}
	if max := int64(elapsed/readyMaxAge) + 1; pings.Load() > max {
		t.Errorf("1600 probes in %s pinged the database %d times, want at most %d", elapsed, pings.Load(), max)
	}
}

// After a failed check the next probe checks again rather than repeating
// the failure for a second: readiness comes back as soon as the database.
func TestReadyzRechecksAfterAFailure(t *testing.T) {
	t.Parallel()
	url, pings, fail := readyServer(t)
	status := func() int {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fail.Store(true)
	if got := status(); got != http.StatusServiceUnavailable {
		t.Fatalf("database down: %d, want 503", got)
	}
	fail.Store(false)
	if got := status(); got != http.StatusOK {
		t.Errorf("database back: %d, want 200 at once", got)
	}
	if got := pings.Load(); got != 2 {
		t.Errorf("pings: %d, want 2 (one per probe after a failure)", got)
	}
}
