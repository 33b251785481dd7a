package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"github.com/shortlinks/shortlinks/db/localpg"
)

// benchToken is the API token the benchmarked server accepts.
const benchToken = "bench-token"

// freshDatabase returns the URL of an empty database and a function that
// removes it: on the server named by DATABASE_URL or TEST_DATABASE_URL, or
// on a throwaway cluster.
func freshDatabase(ctx context.Context) (string, func(), error) {
	server := cmpOr(os.Getenv("DATABASE_URL"), os.Getenv(localpg.TestDatabaseEnv))
	if server == "" {
		c, err := localpg.StartTemp(ctx)
		if err != nil {
			return "", nil, err
		}
		fmt.Fprintf(os.Stderr, "bench: throwaway PostgreSQL on port %d\n", c.Port)
		return c.URL("postgres"), func() { c.Stop() }, nil
	}
	var b [6]byte
	rand.Read(b[:])
	name := "bench_" + hex.EncodeToString(b[:])
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("postgres", server)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	u.Path = "/" + name
	return u.String(), func() {
		admin.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
		admin.Close()
	}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// process is a server running as a child process.
type process struct {
	cmd    *exec.Cmd
	base   string // http://host:port
	stderr *lineBuffer
	waited chan error
}

// startShortlinks runs `shortlinks serve` with production defaults (JSON
// logs at info, every middleware on) on a free port; env adds settings.
func startShortlinks(ctx context.Context, bin, dbURL string, env ...string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append(os.Environ(), "DATABASE_URL="+dbURL, "ADDR="+addr, "API_TOKEN="+benchToken,
		"LOG_LEVEL=info", "LOG_FORMAT=json", "MIGRATE_ON_START=true"), env...)
	return start(ctx, cmd, addr)
}

// startBaseline runs this binary as a baseline server: mode is -const302
// (Echo) or -nethttp302 (net/http alone).
func startBaseline(ctx context.Context, mode string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return start(ctx, exec.Command(self, mode, addr), addr)
}

func start(ctx context.Context, cmd *exec.Cmd, addr string) (*process, error) {
	p := &process{cmd: cmd, base: "http://" + addr, stderr: &lineBuffer{}, waited: make(chan error, 1)}
	cmd.Stdout = io.Discard
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.waited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p, nil
		}
		select {
		case err := <-p.waited:
			return nil, fmt.Errorf("%s exited: %v\n%s", cmd.Path, err, p.stderr.String())
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("%s did not answer on %s", cmd.Path, addr)
		}
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// createLink creates a link through the API and returns its slug.
func (p *process) createLink(ctx context.Context, destination string) (string, error) {
	body, _ := json.Marshal(map[string]string{"destination_url": destination})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/api/v1/links", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+benchToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Slug string `json:"slug"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Slug == "" {
		return "", fmt.Errorf("create link: status %d, %v", resp.StatusCode, err)
	}
	return out.Slug, nil
}

// closedStats is the server's own count, from its "redirects closed" log
// line.
type closedStats struct {
	Clicks        int64 `json:"clicks"`
	ClicksFlushed int64 `json:"clicks_flushed"`
	DroppedClicks int64 `json:"dropped_clicks"`
}

// terminate sends SIGTERM, as an orchestrator would, waits for a clean
// exit and returns the server's final counts.
func (p *process) terminate() (closedStats, error) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return closedStats{}, err
	}
	select {
	case err := <-p.waited:
		if err != nil {
			return closedStats{}, fmt.Errorf("server exited with %v\n%s", err, p.stderr.String())
		}
	case <-time.After(60 * time.Second):
		p.kill()
		return closedStats{}, errors.New("server did not exit within 60s of SIGTERM")
	}
	for _, line := range p.stderr.lines() {
		if strings.Contains(line, `"redirects closed"`) {
			var st closedStats
			err := json.Unmarshal([]byte(line), &st)
			return st, err
		}
	}
	return closedStats{}, fmt.Errorf("no 'redirects closed' line in the server log:\n%s", p.stderr.String())
}

// kill stops the process if it still runs (cleanup after a failure).
func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
	}
}

// lineBuffer collects a child's stderr.
type lineBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lineBuffer) lines() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// baselineDestination is where the baselines redirect.
const baselineDestination = "https://shop.example.com/spring-sale?utm_source=sms&utm_campaign=bench"

// runConst302 is the baseline: Echo answering every /:slug with a
// constant 302 and no middleware.
func runConst302(addr string) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/:slug", func(c echo.Context) error { return c.Redirect(http.StatusFound, baselineDestination) })
	serveBaseline(addr, e)
}

// runNetHTTP302 is the load generator's check: net/http alone answering
// every path with a constant 302, no router. If wrk could not drive more
// than the Echo baseline gets, this one would not come out ahead of it.
func runNetHTTP302(addr string) {
	location := []string{baselineDestination}
	serveBaseline(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return // 200: start() waits for it
		}
		w.Header()["Location"] = location
		w.WriteHeader(http.StatusFound)
	}))
}

// serveBaseline serves handler with an http.Server set up exactly as
// `shortlinks serve` sets up its own (cmd/shortlinks/serve.go; keep the
// two equal): the timeouts cost every request a few deadline updates, and
// they belong to the server, not to the redirect path being compared.
func serveBaseline(addr string, handler http.Handler) {
	srv := &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

// clickCounts reads click_count for each slug.
func clickCounts(ctx context.Context, dbURL string, slugs ...string) (map[string]int64, error) {
	conn, err := sql.Open("postgres", dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	out := map[string]int64{}
	for _, s := range slugs {
		var n int64
		if err := conn.QueryRowContext(ctx, `SELECT c.click_count FROM link_counters c JOIN short_links l ON l.id = c.link_id WHERE l.slug = $1`, s).Scan(&n); err != nil {
			return nil, fmt.Errorf("click count of %s: %w", s, err)
		}
		out[s] = n
	}
	return out, nil
}
