package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/shortlinks/shortlinks/db/pgtest"
)

// The stall, from outside: with the serving statement timeout at
// 20 ms, 5,000 links tapped once each all reach the database within 30 s
// (the flush has its own timeout, and splits what still does not fit), and
// taps made just before SIGTERM are written too: nothing is lost.
func TestServeWritesEveryTapUnderATightStatementTimeout(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	_, migrated := serve(t, url) // migrates, with the default timeout
	migrated.Process.Signal(syscall.SIGTERM)
	migrated.Wait()
	// Serving with 20 ms for every statement: a startup statement may run
	// out of it on a busy machine (the process then exits); try again.
	var base, lastLine string
	var cmd *exec.Cmd
	for attempt := 0; base == "" && attempt < 10; attempt++ {
		base, cmd, lastLine = tryServe(t, url, "STATEMENT_TIMEOUT=20ms", "MIGRATE_ON_START=false")
	}
	if base == "" {
		t.Fatalf("serve never started with STATEMENT_TIMEOUT=20ms; its last line: %s", lastLine)
	}
	conn := sqlx.MustOpen("postgres", url)
	defer conn.Close()
	const links = 5000
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, link_type)
		SELECT 'stall' || i, 'https://stall' || i || '.example.com/', 'sms' FROM generate_series(1, $1::int) i`, links)

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var served atomic.Int64
	tap := func(slug string) error {
		// A cold lookup may itself run out of the 20 ms on a busy machine
		// (503, Retry-After): the recipient's phone tries again, for up
		// to a minute.
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
			resp, err := noFollow.Get(base + "/" + slug)
			if err != nil {
				return err
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusFound:
				served.Add(1)
				return nil
			case http.StatusServiceUnavailable:
				continue
			}
			return fmt.Errorf("%s: status %d", slug, resp.StatusCode)
		}
		return fmt.Errorf("%s: never redirected", slug)
	}
	slugs := make(chan string)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for s := range slugs {
				if err := tap(s); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	start := time.Now()
	for i := 1; i <= links; i++ {
		slugs <- fmt.Sprintf("stall%d", i)
	}
	close(slugs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	tapped := time.Since(start)

	written := func() (n int64) {
		conn.Get(&n, `SELECT COALESCE(SUM(click_count), 0) FROM link_counters`)
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for written() < links && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := written(); n != links {
		t.Fatalf("%d of %d taps in the database 30 s after the last (tapping took %s)", n, links, tapped.Round(time.Millisecond))
	}
	t.Logf("%d taps on %d links in %s; all in the database %s after the last", links, links,
		tapped.Round(time.Millisecond), time.Since(start.Add(tapped)).Round(time.Millisecond))
	var tappedLinks int64
	conn.Get(&tappedLinks, `SELECT COUNT(*) FROM link_counters WHERE click_count = 1`)
	if tappedLinks != links {
		t.Errorf("%d links hold their one click, want %d", tappedLinks, links)
	}

	// Five more taps on one link, then SIGTERM at once.
	for range 5 {
		if err := tap("stall1"); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
	if n := written(); n != served.Load() {
		t.Errorf("%d clicks in the database after SIGTERM, %d redirects served", n, served.Load())
	}
}

// tryServe is serve for a process that may exit before serving: it
// returns "" and the last line the process wrote then.
func tryServe(t *testing.T, dbURL string, env ...string) (string, *exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), append([]string{"DATABASE_URL=" + dbURL, "ADDR=127.0.0.1:0", "API_TOKEN=cli-token", "LOG_LEVEL=info"}, env...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	var last atomic.Value
	last.Store("")
	go func() {
		defer close(addr)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			last.Store(sc.Text())
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a, ok := <-addr:
		if ok {
			return "http://" + a, cmd, ""
		}
	case <-time.After(30 * time.Second):
	}
	return "", nil, last.Load().(string)
}
