package main_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/shortlinks/shortlinks/db/localpg"
)

// The click-count promise from outside: concurrent clients tap a link on
// the real binary, SIGTERM stops it, and click_count equals exactly the
// redirects the clients received.
func TestServeCountsEveryRedirectThroughSIGTERM(t *testing.T) {
	url := localpg.NewTestDatabase(t)
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
	conn.Get(&clicks, `SELECT click_count FROM short_links WHERE slug = $1`, link.Slug)
	conn.Get(&daily, `SELECT COALESCE(SUM(clicks), 0) FROM link_clicks_daily d JOIN short_links l ON l.id = d.link_id WHERE l.slug = $1`, link.Slug)
	if clicks != served.Load() || daily != served.Load() {
		t.Errorf("click_count %d, daily total %d; want %d, the redirects served", clicks, daily, served.Load())
	}
}
