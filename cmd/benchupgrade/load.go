package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/shortlinks/shortlinks/db"
)

// opStats is one kind of operation: how many, how many failed, the longest.
type opStats struct {
	mu        sync.Mutex
	n, errs   int64
	longest   time.Duration
	longestAt time.Time // when the longest started
	firstErr  string
}

func (s *opStats) record(start time.Time, took time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if took > s.longest {
		s.longest, s.longestAt = took, start
	}
	if err != nil {
		s.errs++
		if s.firstErr == "" {
			s.firstErr = err.Error()
		}
	}
}

// load runs workers until stop; each op kind has its own.
type load struct {
	ops  map[string]*opStats
	wg   sync.WaitGroup
	stop chan struct{}
}

func newLoad() *load { return &load{ops: map[string]*opStats{}, stop: make(chan struct{})} }

// every runs op about every period (a closed loop: one at a time per
// worker, so a stalled op shows as its own wait, not as a queue).
func (l *load) every(kind string, workers int, period time.Duration, op func(context.Context) error) {
	st := &opStats{}
	l.ops[kind] = st
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			t := time.NewTicker(period)
			defer t.Stop()
			for {
				select {
				case <-l.stop:
					return
				case <-t.C:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				start := time.Now()
				err := op(ctx)
				st.record(start, time.Since(start), err)
				cancel()
			}
		}()
	}
}

// finish stops the load and prints its figures; the longest wait's start
// is given in seconds from stepStart.
func (l *load) finish(title string, stepStart time.Time) {
	took := time.Since(stepStart)
	close(l.stop)
	l.wg.Wait()
	fmt.Printf("  %s: %.1f s under load\n", title, took.Seconds())
	fmt.Printf("    %-22s %8s %7s %13s %10s\n", "operation", "count", "errors", "longest wait", "at")
	kinds := make([]string, 0, len(l.ops))
	for k := range l.ops {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		s := l.ops[k]
		fmt.Printf("    %-22s %8d %7d %10.0f ms %+8.1f s\n", k, s.n, s.errs, float64(s.longest.Microseconds())/1000, s.longestAt.Sub(stepStart).Seconds())
		if s.firstErr != "" {
			fmt.Printf("      first error: %s\n", s.firstErr)
		}
	}
}

// sqlLoad is the load of step 2 and 4, straight on the database: cold
// redirects and click flushes as the statements of a server of that
// schema, creates through today's store.
func sqlLoad(url string, links int64) (*load, func(), error) {
	conn, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, nil, err
	}
	conn.SetMaxOpenConns(10)
	store := db.New(conn, db.Options{})
	l := newLoad()
	var created atomic.Int64
	l.every("redirect (cold)", 2, 5*time.Millisecond, func(ctx context.Context) error {
		var id int64
		var dest string
		var active bool
		return conn.QueryRowContext(ctx, `SELECT id, destination_url, is_active FROM short_links WHERE slug = $1`,
			randomSlug(links)).Scan(&id, &dest, &active)
	})
	l.every("create", 1, 20*time.Millisecond, func(ctx context.Context) error {
		_, _, err := store.GetOrCreateLink(ctx, db.LinkRequest{
			DestinationURL: fmt.Sprintf("https://new%d.bench.example.com/", created.Add(1)), LinkType: db.LinkTypeSitePreview})
		return err
	})
	l.every("click flush", 1, 100*time.Millisecond, func(ctx context.Context) error { return flushClicks(ctx, conn, links) })
	return l, func() { conn.Close() }, nil
}

// flushClicks adds a click to 50 random links, locking them in id order as
// the click flush does.
func flushClicks(ctx context.Context, conn *sqlx.DB, links int64) error {
	ids := make([]int64, 50)
	for i := range ids {
		ids[i] = rand.Int64N(links) + 1
	}
	_, err := conn.ExecContext(ctx, `WITH batch AS (
			SELECT id FROM short_links WHERE id = ANY($1) ORDER BY id FOR UPDATE
		)
		UPDATE short_links l SET click_count = l.click_count + 1 FROM batch WHERE l.id = batch.id`, pq.Array(ids))
	return err
}

func randomSlug(links int64) string { return fmt.Sprintf("u%x", rand.Int64N(links)+1) }

// underSQLLoad runs step under sqlLoad and prints the figures.
func underSQLLoad(ctx context.Context, url string, links int64, title string, step func() error) error {
	fmt.Printf("\n%s\n", title)
	l, done, err := sqlLoad(url, links)
	if err != nil {
		return err
	}
	defer done()
	time.Sleep(time.Second) // the load is running before the step starts
	start := time.Now()
	err = step()
	l.finish(title, start)
	return err
}

// healUnderServerLoad is step 3: a server of today's code serves the
// upgraded database; while it takes cold redirects and creates over HTTP
// (and click flushes go on), the unique index is dropped and
// `shortlinks heal` rebuilds it.
func healUnderServerLoad(ctx context.Context, url string, links int64, bin, addr string) error {
	fmt.Printf("\nserver under load: DROP INDEX CONCURRENTLY %s, then `shortlinks heal`\n", db.UniqueIndexName)
	env := append(os.Environ(), "DATABASE_URL="+url, "ADDR="+addr, "API_TOKEN=bench-upgrade", "MIGRATE_ON_START=false",
		"ADMIN_PASSWORD=bench-upgrade-admin", "LOG_LEVEL=warn", "LOG_FORMAT=text")
	srv := exec.Command(bin, "serve")
	srv.Env, srv.Stdout, srv.Stderr = env, os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	base := "http://" + addr
	if err := waitReady(ctx, base+"/readyz"); err != nil {
		return err
	}
	client := &http.Client{Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	l := newLoad()
	l.every("redirect (cold, HTTP)", 2, 5*time.Millisecond, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/"+randomSlug(links), nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)")
		return expect(client.Do(req))(http.StatusFound)
	})
	var created atomic.Int64
	l.every("create (HTTP)", 1, 20*time.Millisecond, func(ctx context.Context) error {
		body := fmt.Sprintf(`{"destination_url":"https://srv%d.bench.example.com/"}`, created.Add(1))
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/links", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer bench-upgrade")
		req.Header.Set("Content-Type", "application/json")
		return expect(client.Do(req))(http.StatusCreated)
	})
	conn, err := sqlx.Open("postgres", url)
	if err != nil {
		return err
	}
	defer conn.Close()
	l.every("click flush", 1, 100*time.Millisecond, func(ctx context.Context) error { return flushClicks(ctx, conn, links) })
	time.Sleep(time.Second)
	start := time.Now()
	if _, err := conn.ExecContext(ctx, `DROP INDEX CONCURRENTLY `+db.UniqueIndexName); err != nil {
		l.finish("heal", start)
		return err
	}
	heal := exec.Command(bin, "heal")
	heal.Env = env
	out, err := heal.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	l.finish("drop the index + shortlinks heal", start)
	fmt.Printf("    heal said: %s\n", lines[len(lines)-1])
	return err
}

func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("the server never became ready")
}

// expect turns a response into an error unless it has the wanted status.
func expect(resp *http.Response, err error) func(int) error {
	return func(want int) error {
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("status %d, want %d", resp.StatusCode, want)
		}
		return nil
	}
}
