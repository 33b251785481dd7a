package webhooks_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/handlers/redirects"
	"github.com/shortlinks/shortlinks/handlers/webhooks"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newStore returns a Store over a fresh, migrated database.
func newStore(t *testing.T) *db.Store {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Open(ctx, pgtest.NewMigratedDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return db.New(conn, db.Options{})
}

// fastOptions delivers to urls with test-sized delays.
func fastOptions(t *testing.T, urls ...string) webhooks.Options {
	t.Helper()
	secret, err := webhooks.ParseSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return webhooks.Options{
		URLs: urls, Secret: secret, AllowPrivate: true,
		Concurrency: 4, Timeout: 5 * time.Second, PollInterval: 20 * time.Millisecond,
		BaseDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond,
		SuspendAfter: 3, ProbeEvery: 100 * time.Millisecond,
	}
}

func startWorker(t *testing.T, s *db.Store, opts webhooks.Options) {
	t.Helper()
	w := webhooks.Start(s, opts, quiet)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			t.Error(err)
		}
	})
}

// waitFor polls cond until it holds, failing the test after limit. The
// pause grows from 20 to 200 ms: conditions here are database queries
// (a count over every delivery), which a long wait would otherwise run
// fifty times a second.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for pause := 20 * time.Millisecond; !cond(); pause = min(2*pause, 200*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", limit, what)
		}
		time.Sleep(pause)
	}
}

func scalar(t *testing.T, s *db.Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.DB().Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// makeLinks inserts n links in one statement and returns their slugs.
func makeLinks(t *testing.T, s *db.Store, n int) []string {
	t.Helper()
	var slugs []string
	err := s.DB().Select(&slugs, `INSERT INTO short_links (slug, destination_url, link_type)
		SELECT 'w' || g, 'https://shop' || g || '.example.com/', 'campaign' FROM generate_series(1, $1) g
		RETURNING slug`, n)
	if err != nil {
		t.Fatal(err)
	}
	return slugs
}

// clickAll counts perLink clicks on every slug through the redirect
// service's real counter, from several goroutines, as taps would.
func clickAll(t *testing.T, svc *redirects.Service, slugs []string, perLink int) {
	t.Helper()
	targets := make([]*redirects.Target, len(slugs))
	for i, slug := range slugs {
		tg, err := svc.Lookup(context.Background(), slug)
		if err != nil || tg.Status != redirects.Found {
			t.Fatalf("lookup %s: %v", slug, err)
		}
		targets[i] = tg
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := g; round < perLink; round += 4 {
				for _, tg := range targets {
					svc.Count(tg, false)
				}
			}
		}()
	}
	wg.Wait()
}

// 100 000 clicks on 1 000 links, while the receiver is down: nothing is
// lost once it is back, every click is counted once after de-duplicating by
// webhook-id, at most one event per link per flush is generated, every
// signature verifies, and two workers (two instances) never deliver one
// event twice.
func TestReceiverDownThenUpGetsEveryClickOnce(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	rcv := newReceiver(t, nil)
	rcv.down.Store(true)
	opts := fastOptions(t, rcv.srv.URL+"/hooks")
	// Production's default pool (8 requests in flight per instance) rather
	// than the small test pool: catching up on 11,000 deliveries is paced by
	// lease round trips, a few deliveries each.
	opts.Concurrency = webhooks.DefaultConcurrency
	if err := s.SyncWebhookEndpoints(context.Background(), opts.URLs); err != nil {
		t.Fatal(err)
	}
	const links, perLink = 1000, 100
	slugs := makeLinks(t, s, links)
	svc := redirects.New(s, redirects.Options{FlushInterval: 20 * time.Millisecond}, quiet)
	startWorker(t, s, opts)
	startWorker(t, s, opts)

	// Five rounds, each flushed before the next, so the events span
	// several flushes; every tenth link also gets a link preview per round.
	started := time.Now()
	const rounds = 5
	for round := range rounds {
		clickAll(t, svc, slugs, perLink/rounds)
		previewTenth(t, svc, slugs)
		want := int64(links * perLink / rounds * (round + 1))
		waitFor(t, time.Minute, fmt.Sprintf("round %d's clicks to be flushed", round), func() bool {
			return scalar(t, s, `SELECT SUM(click_count) FROM link_counters`) == want
		})
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := svc.Close(closeCtx); err != nil { // writes what is still pending
		t.Fatal(err)
	}
	finished := time.Now()
	if got := scalar(t, s, `SELECT SUM(click_count) FROM link_counters`); got != links*perLink {
		t.Fatalf("%d clicks in the database, want %d", got, links*perLink)
	}
	waitFor(t, time.Minute, "the endpoint to be suspended", func() bool {
		return scalar(t, s, `SELECT COUNT(*) FROM webhook_endpoints WHERE probe_at IS NOT NULL`) == 1
	})
	if rcv.refused.Load() == 0 {
		t.Fatal("the receiver was never tried while down")
	}

	rcv.down.Store(false)
	upAt := time.Now()
	waitFor(t, 3*time.Minute, "every delivery to land", func() bool {
		return scalar(t, s, `SELECT COUNT(*) FROM webhook_deliveries WHERE state <> 'delivered'`) == 0
	})
	catchUp := time.Since(upAt)

	clicks, previews, events := rcv.clicksBySlug()
	var total int64
	for _, slug := range slugs {
		if clicks[slug] != perLink {
			t.Errorf("link %s: %d clicks received, want %d", slug, clicks[slug], perLink)
			break
		}
		total += clicks[slug]
	}
	if total != links*perLink || previews != links/10*rounds {
		t.Errorf("received %d clicks and %d previews, want %d and %d", total, previews, links*perLink, links/10*rounds)
	}
	flushes := scalar(t, s, `SELECT COUNT(*) FROM click_flushes`)
	if int64(events) > links*flushes {
		t.Errorf("%d link.clicked events for %d links and %d flushes", events, links, flushes)
	}
	if events >= links*perLink {
		t.Errorf("%d events: one per click, not per link per flush", events)
	}
	evs, answered, bad := rcv.snapshot()
	if len(bad) > 0 {
		t.Errorf("%d requests with a bad signature, first: %s", len(bad), bad[0])
	}
	for id, n := range answered {
		if n > 1 {
			t.Errorf("webhook-id %s was delivered %d times", id, n)
			break
		}
	}
	for id, e := range evs {
		if e.Type != "link.clicked" {
			continue
		}
		from, err1 := time.Parse(time.RFC3339Nano, e.Data["from"].(string))
		to, err2 := time.Parse(time.RFC3339Nano, e.Data["to"].(string))
		if err1 != nil || err2 != nil || from.After(to) || from.Before(started.Add(-time.Second)) || to.After(finished) {
			t.Errorf("event %s: from %v to %v is not a window within the test", id, e.Data["from"], e.Data["to"])
			break
		}
	}
	if created := countType(evs, "link.created"); created != links {
		t.Errorf("%d link.created events, want %d", created, links)
	}
	t.Logf("%d clicks in %d link.clicked events over %d flushes; receiver refused %d requests while down; "+
		"%d events delivered in %s once it was up", total, events, flushes, rcv.refused.Load(), len(evs), catchUp.Round(time.Millisecond))
}

// previewTenth counts one link preview on every tenth link.
func previewTenth(t *testing.T, svc *redirects.Service, slugs []string) {
	t.Helper()
	for i := 0; i < len(slugs); i += 10 {
		tg, err := svc.Lookup(context.Background(), slugs[i])
		if err != nil {
			t.Fatal(err)
		}
		svc.Count(tg, true)
	}
}

func countType(evs map[string]event, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// A receiver that never answers ties up at most the worker's pool; click
// flushes go on committing counts and queueing events meanwhile.
func TestSlowReceiverDoesNotHoldUpFlushes(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	hold := make(chan struct{})
	rcv := newReceiver(t, hold)
	defer close(hold) // before the receiver closes (cleanups run after defers)
	opts := fastOptions(t, rcv.srv.URL)
	opts.Concurrency = 2
	opts.Timeout = time.Minute
	if err := s.SyncWebhookEndpoints(context.Background(), opts.URLs); err != nil {
		t.Fatal(err)
	}
	slugs := makeLinks(t, s, 50)
	startWorker(t, s, opts)
	waitFor(t, 30*time.Second, "the pool to fill with held requests", func() bool { return rcv.inFlight.Load() == 2 })

	svc := redirects.New(s, redirects.Options{FlushInterval: 20 * time.Millisecond}, quiet)
	for round := range 5 {
		clickAll(t, svc, slugs, 10)
		want := int64(len(slugs) * 10 * (round + 1))
		waitFor(t, 30*time.Second, fmt.Sprintf("round %d's clicks to be flushed", round), func() bool {
			return scalar(t, s, `SELECT SUM(click_count) FROM link_counters`) == want
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, s, `SELECT COUNT(*) FROM webhook_deliveries WHERE event_type = 'link.clicked' AND state = 'pending'`); n < int64(len(slugs)) {
		t.Errorf("%d link.clicked events queued, want at least one per link", n)
	}
	if m := rcv.maxIn.Load(); m > 2 {
		t.Errorf("%d requests in flight at once, the pool is 2", m)
	}
}

// Without WEBHOOK_ALLOW_PRIVATE nothing is sent to a loopback receiver, even
// through a name, and the delivery log says why.
func TestPrivateReceiverRefusedWithoutTheFlag(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	rcv := newReceiver(t, nil)
	port := rcv.srv.URL[strings.LastIndexByte(rcv.srv.URL, ':'):]
	opts := fastOptions(t, rcv.srv.URL, "http://localhost"+port+"/by-name")
	opts.AllowPrivate = false
	if err := s.SyncWebhookEndpoints(context.Background(), opts.URLs); err != nil {
		t.Fatal(err)
	}
	makeLinks(t, s, 3)
	startWorker(t, s, opts)
	waitFor(t, 30*time.Second, "both endpoints to be tried", func() bool {
		return scalar(t, s, `SELECT COUNT(DISTINCT endpoint_id) FROM webhook_deliveries WHERE last_error LIKE '%not public%'`) == 2
	})
	if n := scalar(t, s, `SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'delivered'`); n != 0 {
		t.Errorf("%d deliveries reached a private address", n)
	}
	if evs, _, _ := rcv.snapshot(); len(evs) != 0 || rcv.inFlight.Load() != 0 {
		t.Errorf("the private receiver got %d events", len(evs))
	}
}
