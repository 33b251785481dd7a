package handlers_test

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
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

	before := goroutines()
	base := web.NewBase(store, cfg, log)
	rt := &handlers.Runtime{Base: base, Monitor: ops.NewMonitor(base)} // built, not started
	h := handlers.New(rt)
	e := h.NewServer()
	after := goroutines()

	// Counted by who started them: a goroutine another test's cleanup or
	// the pool starts meanwhile is not one the construction started (a bare
	// count before and after failed for that on a loaded machine).
	me := currentGoroutine()
	for id, stack := range after {
		if _, old := before[id]; !old && strings.Contains(stack, "in goroutine "+me+"\n") {
			t.Errorf("building the handlers started a goroutine:\n%s", stack)
		}
	}
	if len(e.Routes()) == 0 {
		t.Error("the server has no routes")
	}
}

// goroutines returns every goroutine's stack by its ID.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if id, ok := goroutineID(g); ok {
			out[id] = g + "\n"
		}
	}
	return out
}

// currentGoroutine is the calling goroutine's ID.
func currentGoroutine() string {
	buf := make([]byte, 64)
	id, _ := goroutineID(string(buf[:runtime.Stack(buf, false)]))
	return id
}

// goroutineID reads the ID off a stack's first line, "goroutine 7 [running]:".
func goroutineID(stack string) (string, bool) {
	rest, ok := strings.CutPrefix(stack, "goroutine ")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, " ")
	return id, ok
}
