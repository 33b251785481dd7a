package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"
)

// timing is one page's latencies over the timed requests.
type timing struct {
	name     string
	median   time.Duration
	p95      time.Duration
	failures string // non-empty when a request did not answer 200
}

// sizeResult is everything measured on one dataset.
type sizeResult struct {
	links        int64
	pages        []timing
	checkDup     time.Duration
	exportRows   int64
	exportTime   time.Duration
	rssBeforeKB  int64
	rssExportKB  int64
	checkSeconds float64 // the server's own report of the check
}

// samples are real values of the dataset for searches and detail pages.
type samples struct {
	slug, slugPart string
}

func pickSamples(ctx context.Context, conn *sql.DB, n int64) (samples, error) {
	var s samples
	// A link with a year of daily rows (the generator gives them to one
	// active link in 200).
	err := conn.QueryRowContext(ctx, `SELECT slug FROM short_links WHERE id = (
		SELECT link_id FROM link_clicks_daily WHERE link_id >= $1 ORDER BY link_id LIMIT 1)`, n/2).Scan(&s.slug)
	if err != nil {
		return s, err
	}
	s.slugPart = s.slug[1:6]
	return s, nil
}

// measureSize starts the server on one dataset and times every page.
func measureSize(ctx context.Context, o options, dbURL string, n int64) (sizeResult, error) {
	r := sizeResult{links: n}
	conn, err := sql.Open("postgres", dbURL)
	if err != nil {
		return r, err
	}
	defer conn.Close()
	smp, err := pickSamples(ctx, conn, n)
	if err != nil {
		return r, fmt.Errorf("picking samples: %w", err)
	}
	// check-duplicates first: timed as an operator runs it, and it leaves a
	// fresh check, so the server's monitor does not start one during the
	// measurements.
	start := time.Now()
	cmd := exec.CommandContext(ctx, o.bin, "check-duplicates")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	out, err := cmd.CombinedOutput()
	r.checkDup = time.Since(start)
	fmt.Fprintf(os.Stderr, "  check-duplicates: %s (%s)\n", strings.TrimSpace(string(out)), r.checkDup.Round(time.Millisecond))
	if err != nil {
		return r, fmt.Errorf("check-duplicates: %v", err)
	}
	srv, err := startServer(ctx, o.bin, dbURL)
	if err != nil {
		return r, err
	}
	defer srv.stop()
	for _, p := range pagesToTime(smp) {
		t, err := timePage(srv, p, o.requests)
		if err != nil {
			return r, err
		}
		r.pages = append(r.pages, t)
		fmt.Fprintf(os.Stderr, "  %-44s median %7.1f ms  p95 %7.1f ms %s\n", t.name, ms(t.median), ms(t.p95), t.failures)
	}
	for _, f := range []follow{
		{"/admin/links next page", srv.admin, "/admin/links", nextHref},
		{"/admin/links?sort=most_clicks next page", srv.admin, "/admin/links?sort=most_clicks", nextHref},
		{"/admin/campaigns next page", srv.admin, "/admin/campaigns", nextHref},
		{"/api/v1/links next page", nil, "/api/v1/links", nextCursor},
		{"/api/v1/links?sort=oldest next page", nil, "/api/v1/links?sort=oldest", nextCursor},
	} {
		ts, err := followNext(srv, f, 3, o.requests)
		if err != nil {
			return r, err
		}
		for _, t := range ts {
			fmt.Fprintf(os.Stderr, "  %-44s median %7.1f ms  p95 %7.1f ms %s\n", t.name, ms(t.median), ms(t.p95), t.failures)
		}
		r.pages = append(r.pages, ts...)
	}
	if _, body, err := srv.get(nil, "/api/v1/health/duplicates"); err == nil {
		var h struct {
			CheckSeconds float64 `json:"check_seconds"`
		}
		json.Unmarshal(body, &h)
		r.checkSeconds = h.CheckSeconds
	}
	if o.export {
		if err := timeExport(srv, &r); err != nil {
			return r, err
		}
	}
	return r, nil
}

// page is one URL to time; admin pages use the signed-in client.
type page struct {
	name  string
	admin bool
	path  string
}

func pagesToTime(s samples) []page {
	return []page{
		{"/admin/links", true, "/admin/links"},
		{"/admin/links?q=bakery (common word)", true, "/admin/links?q=bakery"},
		{"/admin/links?q=<part of a slug> (rare)", true, "/admin/links?q=" + url.QueryEscape(s.slugPart)},
		{"/admin/links?q=bakery&sort=most_clicks", true, "/admin/links?q=bakery&sort=most_clicks"},
		{"/admin/links?type=sms", true, "/admin/links?type=sms"},
		{"/admin/links?type=qr", true, "/admin/links?type=qr"},
		{"/admin/links?active=true", true, "/admin/links?active=true"},
		{"/admin/links?active=false", true, "/admin/links?active=false"},
		{"/admin/links?type=qr&active=false", true, "/admin/links?type=qr&active=false"},
		{"/admin/links?sort=oldest", true, "/admin/links?sort=oldest"},
		{"/admin/links?sort=most_clicks", true, "/admin/links?sort=most_clicks"},
		{"/admin/links?sort=fewest_clicks", true, "/admin/links?sort=fewest_clicks"},
		{"/admin/links?type=email&sort=most_clicks", true, "/admin/links?type=email&sort=most_clicks"},
		{"/admin/links?active=false&sort=fewest_clicks", true, "/admin/links?active=false&sort=fewest_clicks"},
		{"/admin/links/<slug> (a year of clicks)", true, "/admin/links/" + s.slug},
		{"/admin/campaigns", true, "/admin/campaigns"},
		{"/admin/campaigns?q=bakery", true, "/admin/campaigns?q=bakery"},
		{"/admin/campaigns?q=springfield (city)", true, "/admin/campaigns?q=springfield"},
		{"/admin/health", true, "/admin/health"},
		{"/api/v1/health/duplicates", false, "/api/v1/health/duplicates"},
		{"/api/v1/links", false, "/api/v1/links"},
		{"/api/v1/links?limit=500", false, "/api/v1/links?limit=500"},
		{"/api/v1/links?q=bakery", false, "/api/v1/links?q=bakery"},
		{"/api/v1/links?type=social&active=true", false, "/api/v1/links?type=social&active=true"},
		{"/api/v1/links?sort=most_clicks", false, "/api/v1/links?sort=most_clicks"},
		{"/api/v1/links?sort=fewest_clicks", false, "/api/v1/links?sort=fewest_clicks"},
		{"/api/v1/links/<slug>", false, "/api/v1/links/" + s.slug},
		{"/metrics", false, "/metrics"},
	}
}

// timePage requests p once to warm up, then n times in a row.
func timePage(s *server, p page, n int) (timing, error) {
	c := (*http.Client)(nil)
	if p.admin {
		c = s.admin
	}
	t := timing{name: p.name}
	var times []time.Duration
	for i := 0; i <= n; i++ {
		start := time.Now()
		status, _, err := s.get(c, p.path)
		elapsed := time.Since(start)
		if err != nil {
			return t, fmt.Errorf("%s: %w", p.path, err)
		}
		if status != http.StatusOK {
			t.failures = fmt.Sprintf("(answered %d)", status)
		}
		if i > 0 {
			times = append(times, elapsed)
		}
	}
	t.median, t.p95 = percentiles(times)
	return t, nil
}

// follow walks a listing's next pages.
type follow struct {
	name   string
	client *http.Client
	first  string
	next   func(body []byte, path string) string
}

var nextLink = regexp.MustCompile(`href="([^"]+)" rel="next"`)

func nextHref(body []byte, _ string) string {
	m := nextLink.FindSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(string(m[1]), "&amp;", "&")
}

func nextCursor(body []byte, path string) string {
	var v struct {
		Next string `json:"next_cursor"`
	}
	if json.Unmarshal(body, &v) != nil || v.Next == "" {
		return ""
	}
	u, _ := url.Parse(path)
	q := u.Query()
	q.Set("cursor", v.Next)
	u.RawQuery = q.Encode()
	return u.String()
}

// followNext times the next page of f, then the one after, hops times.
func followNext(s *server, f follow, hops, n int) ([]timing, error) {
	_, body, err := s.get(f.client, f.first)
	if err != nil {
		return nil, err
	}
	path := f.first
	var out []timing
	for hop := 1; hop <= hops; hop++ {
		path = f.next(body, path)
		if path == "" {
			return out, fmt.Errorf("%s: no next page after %d hops", f.name, hop-1)
		}
		t, err := timePage(s, page{name: fmt.Sprintf("%s %d", f.name, hop), admin: f.client != nil, path: path}, n)
		if err != nil {
			return out, err
		}
		out = append(out, t)
		if _, body, err = s.get(f.client, path); err != nil {
			return out, err
		}
	}
	return out, nil
}

// timeExport downloads the whole CSV export, counting rows and sampling the
// server's memory while it streams.
func timeExport(s *server, r *sizeResult) error {
	r.rssBeforeKB, _ = s.rssKB()
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var max int64
		for {
			if now, _ := s.rssKB(); now > max {
				max = now
			}
			select {
			case <-done:
				peak <- max
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, s.base+"/admin/links.csv", nil)
	resp, err := s.admin.Do(req)
	if err != nil {
		close(done)
		return err
	}
	defer resp.Body.Close()
	buf := make([]byte, 1<<20)
	var lines int64
	for {
		n, err := resp.Body.Read(buf)
		lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err != nil {
			break
		}
	}
	r.exportTime = time.Since(start)
	close(done)
	r.rssExportKB = <-peak
	r.exportRows = lines - 1 // the header
	fmt.Fprintf(os.Stderr, "  CSV export: %d rows in %s, RSS %d → %d MB\n", r.exportRows, r.exportTime.Round(time.Millisecond), r.rssBeforeKB/1024, r.rssExportKB/1024)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("export answered %d", resp.StatusCode)
	}
	return nil
}

func percentiles(d []time.Duration) (median, p95 time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	idx := func(q float64) int { return min(len(s)-1, int(q*float64(len(s)-1)+0.5)) }
	return s[idx(0.5)], s[idx(0.95)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
