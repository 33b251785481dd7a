package handlers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db/localpg"
)

// While PostgreSQL is down the API fails fast with 503 JSON and /readyz says
// not ready; when it returns, everything works again without a restart.
func TestAPIDuringDatabaseOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster, err := localpg.StartTemp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop() })
	app := newTestAppOn(t, cluster.URL("postgres"))
	if status, _ := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://before.example.com/"}); status != http.StatusCreated {
		t.Fatalf("before the outage: %d", status)
	}

	if err := cluster.StopServer(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	status, body := app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://during.example.com/"})
	if status != http.StatusServiceUnavailable || errorOf(body, "code") != "unavailable" {
		t.Errorf("create during the outage: %d %v, want 503 JSON", status, body)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("create during the outage took %s; it should fail fast", waited)
	}
	if status, body := app.api(t, "GET", "/api/v1/health/duplicates", nil); status != http.StatusServiceUnavailable {
		t.Errorf("health during the outage: %d %v", status, body)
	}
	resp, err := http.Get(app.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d, want 503", resp.StatusCode)
	}

	if err := cluster.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	if !pollUntil(5*time.Second, func() bool {
		status, _ = app.api(t, "POST", "/api/v1/links", map[string]any{"destination_url": "https://after.example.com/"})
		return status == http.StatusCreated
	}) {
		t.Fatalf("not recovered 5 s after the database returned: last status %d", status)
	}
	if n := app.countLinks(t); n != 2 {
		t.Errorf("%d links after the outage, want 2 (the failed call created nothing)", n)
	}
}
