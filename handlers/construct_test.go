package handlers_test

import (
	"context"
	"log/slog"
	"runtime"
	"testing"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/handlers/ops"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// Building the HTTP layer starts no goroutine: the background work (click
// flusher, change feed, monitor, webhook worker) is the Runtime's, started
// by cmd/shortlinks before the handlers are built. Not parallel: it counts
// the process's goroutines, so it runs before the parallel tests start.
func TestBuildingHandlersStartsNoGoroutine(t *testing.T) {
	conn, err := db.Open(context.Background(), pgtest.NewMigratedDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	store := db.New(conn, db.Options{ReservedSlugs: handlers.ReservedSlugs()})
	if err := store.Ping(context.Background()); err != nil { // the pool is open and used
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	cfg := handlers.Config{APITokens: []string{testToken}, AdminUser: testAdminUser, AdminPassword: testAdminPassword}
	cfg.Webhooks.URLs = []string{"https://hooks.example.com/in"} // the console's webhook page is built too

	before := runtime.NumGoroutine()
	base := web.NewBase(store, cfg, log)
	rt := &handlers.Runtime{Base: base, Monitor: ops.NewMonitor(base)} // built, not started
	h := handlers.New(rt)
	e := h.NewServer()
	after := runtime.NumGoroutine()

	if after > before {
		t.Errorf("building the handlers started %d goroutines (%d before, %d after)", after-before, before, after)
	}
	if len(e.Routes()) == 0 {
		t.Error("the server has no routes")
	}
}
