package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/shortlinks/shortlinks/db/pgtest"
)

// The click-count promise from outside: concurrent clients tap a link on
// the real binary, SIGTERM stops it, and click_count equals exactly the
// redirects the clients received.
func TestServeCountsEveryRedirectThroughSIGTERM(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	base, cmd := serve(t, url, "CLICK_FLUSH_INTERVAL=50ms")
	req, _ := http.NewRequest("POST", base+"/api/v1/links", bytes.NewBufferString(`{"destination_url":"https://florist.example.com/mothers-day"}`))
	req.Header.Set("Authorization", "Bearer cli-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var link struct{ Slug string }
	json.NewDecoder(resp.Body).Decode(&link)
	resp.Body.Close()

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const clients, each = 24, 80
	var served atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range each {
				resp, err := noFollow.Get(base + "/" + link.Slug)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusFound {
					served.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if served.Load() != clients*each {
		t.Fatalf("%d redirects served, want %d", served.Load(), clients*each)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
	conn := sqlx.MustOpen("postgres", url)
	defer conn.Close()
	var clicks, daily int64
	conn.Get(&clicks, `SELECT c.click_count FROM link_counters c JOIN short_links l ON l.id = c.link_id WHERE l.slug = $1`, link.Slug)
	conn.Get(&daily, `SELECT COALESCE(SUM(clicks), 0) FROM link_clicks_daily d JOIN short_links l ON l.id = d.link_id WHERE l.slug = $1`, link.Slug)
	if clicks != served.Load() || daily != served.Load() {
		t.Errorf("click_count %d, daily total %d; want %d, the redirects served", clicks, daily, served.Load())
	}
}

// Two real server processes over one database: a link deactivated through
// one stops redirecting on the other within a second, though the other had
// it cached (for an hour, so only the change notification can do it).
func TestServeDeactivationReachesTheOtherInstance(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	a, _ := serve(t, url, "LINK_CACHE_TTL=1h")
	b, _ := serve(t, url, "LINK_CACHE_TTL=1h", "MIGRATE_ON_START=false")
	api := func(path, body string) *http.Response {
		req, _ := http.NewRequest("POST", a+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer cli-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := api("/api/v1/links", `{"destination_url":"https://deli.example.com/lunch"}`)
	var link struct{ Slug string }
	json.NewDecoder(resp.Body).Decode(&link)
	resp.Body.Close()

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status := func() int {
		resp, err := noFollow.Get(b + "/" + link.Slug)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Wait until B hears link changes (its /metrics says so), then let B
	// cache the link.
	deadline := time.Now().Add(10 * time.Second)
	for !feedConnected(t, b) {
		if time.Now().After(deadline) {
			t.Fatal("instance B's change feed never connected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 3 {
		if s := status(); s != http.StatusFound {
			t.Fatalf("before deactivation: %d", s)
		}
	}
	if resp := api("/api/v1/links/"+link.Slug+"/deactivate", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("deactivate: %d", resp.StatusCode)
	}
	start := time.Now()
	for status() != http.StatusGone {
		if time.Since(start) > 3*time.Second {
			t.Fatal("the other instance still redirects 3 s after the deactivation")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the other instance answered 410 only after %s, want within 1s", took)
	}
}

// feedConnected reads shortlinks_change_feed_connected from an instance's
// /metrics (served to loopback clients).
func feedConnected(t *testing.T, base string) bool {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(body), "\nshortlinks_change_feed_connected 1\n")
}
