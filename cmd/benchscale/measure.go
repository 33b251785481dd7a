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

// samples are real values of the dataset for searches and detail pages,
// typed the ways people type them.
type samples struct {
	slug          string // a link with a year of daily rows
	slugPrefix    string // the first four characters of another link's slug
	url           string // an active link's full destination
	urlTyped      string // the same URL with its scheme and host in capitals
	urlNoQuery    string // the same URL without its query: no link has it exactly
	domain        string // its host without "www."
	pathRare      string // its path and query (the ref makes it rare)
	name          string // a business's name as stored ("Rosa's Bakery Express")
	nameLoose     string // the same name in lower case, without apostrophes or accents
	accentedLoose string // a name with an accent ("Café Pizza") typed without it
	accentedCity  string // a city with an accent ("São Paulo") typed without it
}

func pickSamples(ctx context.Context, conn *sql.DB, n int64) (samples, error) {
	var s samples
	// A link with a year of daily rows (the generator gives them to one
	// active link in 200).
	err := conn.QueryRowContext(ctx, `SELECT slug FROM short_links WHERE id = (
		SELECT link_id FROM link_clicks_daily WHERE link_id >= $1 ORDER BY link_id LIMIT 1)`, n/2).Scan(&s.slug)
	if err != nil {
		return s, fmt.Errorf("a link with clicks: %w", err)
	}
	err = conn.QueryRowContext(ctx, `SELECT left(slug, 4), destination_url FROM short_links
		WHERE id >= $1 AND is_active AND link_type <> 'site_preview' AND destination_url LIKE '%?%'
		ORDER BY id LIMIT 1`, n*37/100).Scan(&s.slugPrefix, &s.url)
	if err != nil {
		return s, fmt.Errorf("a link with a path: %w", err)
	}
	scheme, rest, _ := strings.Cut(s.url, "://")
	host, path, _ := strings.Cut(rest, "/")
	s.urlTyped = strings.ToUpper(scheme) + "://" + strings.ToUpper(host) + "/" + path
	s.urlNoQuery, _, _ = strings.Cut(s.url, "?")
	s.domain = strings.TrimPrefix(host, "www.")
	s.pathRare = path
	// Businesses from the middle of the table, by primary key (random
	// names: the generator draws them).
	err = conn.QueryRowContext(ctx, `SELECT name, search_normalize(name) FROM businesses
		WHERE id >= md5('b' || $1)::uuid AND name LIKE '%''%' ORDER BY id LIMIT 1`, n/20).Scan(&s.name, &s.nameLoose)
	if err != nil {
		return s, fmt.Errorf("a business: %w", err)
	}
	err = conn.QueryRowContext(ctx, `SELECT search_normalize(name) FROM businesses
		WHERE id >= md5('b' || $1)::uuid AND name ~ '[éêëüñ]' ORDER BY id LIMIT 1`, n/30).Scan(&s.accentedLoose)
	if err != nil {
		return s, fmt.Errorf("a business with an accent: %w", err)
	}
	s.accentedCity = "sao paulo"
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
	srv, err := startServer(ctx, o.bin, dbURL, o.addr)
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
	q := url.QueryEscape
	return []page{
		{"/admin/links", true, "/admin/links"},
		{"/admin/links?q=bakery (common word)", true, "/admin/links?q=bakery"},
		{"/admin/links?q=<slug prefix, 4 chars>", true, "/admin/links?q=" + q(s.slugPrefix)},
		{"/admin/links?q=<slug prefix, 3 chars>", true, "/admin/links?q=" + q(s.slugPrefix[:3])},
		{"/admin/links?q=<full URL>", true, "/admin/links?q=" + q(s.url)},
		{"/admin/links?q=<full URL, scheme and host in capitals>", true, "/admin/links?q=" + q(s.urlTyped)},
		{"/admin/links?q=<URL no link has exactly (no query)>", true, "/admin/links?q=" + q(s.urlNoQuery)},
		{"/admin/links?q=<domain>", true, "/admin/links?q=" + q(s.domain)},
		{"/admin/links?q=www.<domain>", true, "/admin/links?q=" + q("www."+s.domain)},
		{"/admin/links?q=offers/spring (common path fragment)", true, "/admin/links?q=" + q("offers/spring")},
		{"/admin/links?q=<path and query of one link> (rare fragment)", true, "/admin/links?q=" + q(s.pathRare)},
		{"/admin/links?q=<business name as stored>", true, "/admin/links?q=" + q(s.name)},
		{"/admin/links?q=<business name, lower case, no apostrophe>", true, "/admin/links?q=" + q(s.nameLoose)},
		{"/admin/links?q=<name with an accent, typed without>", true, "/admin/links?q=" + q(s.accentedLoose)},
		{"/admin/links?q=cafe (common, matches Café)", true, "/admin/links?q=cafe"},
		{"/admin/links?q=sao paulo (city, typed without accent)", true, "/admin/links?q=" + q(s.accentedCity)},
		{"/admin/links?q=rosas bakery (two words of names, 1 link in 1,600)", true, "/admin/links?q=" + q("rosas bakery")},
		{"/admin/links?q=offers/spring&type=sms", true, "/admin/links?q=" + q("offers/spring") + "&type=sms"},
		{"/admin/links?q=cafe&sort=most_clicks", true, "/admin/links?q=cafe&sort=most_clicks"},
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
		{"/admin/campaigns?q=<business name as stored>", true, "/admin/campaigns?q=" + q(s.name)},
		{"/admin/campaigns?q=<business name, lower case, no apostrophe>", true, "/admin/campaigns?q=" + q(s.nameLoose)},
		{"/admin/campaigns?q=<name with an accent, typed without>", true, "/admin/campaigns?q=" + q(s.accentedLoose)},
		{"/admin/campaigns?q=rosas (common, matches Rosa's)", true, "/admin/campaigns?q=rosas"},
		{"/admin/campaigns?q=sao paulo (city, typed without accent)", true, "/admin/campaigns?q=" + q(s.accentedCity)},
		{"/admin/campaigns?q=cafe (common, matches Café)", true, "/admin/campaigns?q=cafe"},
		{"/admin/campaigns?q=rosas bakery (two words of names)", true, "/admin/campaigns?q=" + q("rosas bakery")},
		{"/admin/health", true, "/admin/health"},
		{"/api/v1/health/duplicates", false, "/api/v1/health/duplicates"},
		{"/api/v1/links", false, "/api/v1/links"},
		{"/api/v1/links?limit=500", false, "/api/v1/links?limit=500"},
		{"/api/v1/links?q=bakery", false, "/api/v1/links?q=bakery"},
		{"/api/v1/links?q=<full URL>", false, "/api/v1/links?q=" + q(s.url)},
		{"/api/v1/links?q=<domain>", false, "/api/v1/links?q=" + q(s.domain)},
		{"/api/v1/links?q=<slug prefix, 4 chars>", false, "/api/v1/links?q=" + q(s.slugPrefix)},
		{"/api/v1/links?q=<business name, lower case, no apostrophe>", false, "/api/v1/links?q=" + q(s.nameLoose)},
		{"/api/v1/links?q=<www.domain>", false, "/api/v1/links?q=" + q("www."+s.domain)},
		{"/api/v1/links?q=<path and query of one link> (rare fragment)", false, "/api/v1/links?q=" + q(s.pathRare)},
		{"/api/v1/links?q=offers/spring (common path fragment)", false, "/api/v1/links?q=" + q("offers/spring")},
		{"/api/v1/links?q=cafe (common, matches Café)", false, "/api/v1/links?q=cafe"},
		{"/api/v1/links?q=rosas bakery (two words of names)", false, "/api/v1/links?q=" + q("rosas bakery")},
		{"/api/v1/links?type=social&active=true", false, "/api/v1/links?type=social&active=true"},
		{"/api/v1/links?sort=most_clicks", false, "/api/v1/links?sort=most_clicks"},
		{"/api/v1/links?sort=fewest_clicks", false, "/api/v1/links?sort=fewest_clicks"},
		{"/api/v1/links/<slug>", false, "/api/v1/links/" + s.slug},
		{"/api/v1/campaigns/results (all time)", false, "/api/v1/campaigns/results"},
		{"/api/v1/campaigns/results?since=<24 h ago>", false, resultsSince(24 * time.Hour)},
		{"/api/v1/campaigns/results?since=<7 days ago>", false, resultsSince(7 * 24 * time.Hour)},
		{"/api/v1/campaigns/results?since=<30 days ago>", false, resultsSince(30 * 24 * time.Hour)},
		{"/api/v1/campaigns/results?since=<90 days ago>", false, resultsSince(90 * 24 * time.Hour)},
		{"/api/v1/campaigns/results?since=<30 d>&until=<7 d ago>", false, resultsSince(30*24*time.Hour) + "&until=" + agoParam(7*24*time.Hour)},
		{"/admin/results (all time)", true, "/admin/results"},
		{"/admin/results?since=<90 days ago>", true, "/admin/results?since=" + agoParam(90*24*time.Hour)},
		{"/admin/results last 30 days (preset: dates)", true, "/admin/results?since=" + dateAgo(29) + "&until=" + dateAgo(0)},
		{"/admin/results last 7 days (preset: dates)", true, "/admin/results?since=" + dateAgo(6) + "&until=" + dateAgo(0)},
		{"/admin/results?by=version (all time)", true, "/admin/results?by=version"},
		{"/admin/results?by=version&since=<30 d>&until=<7 d ago>", true, "/admin/results?by=version&since=" +
			agoParam(30*24*time.Hour) + "&until=" + agoParam(7*24*time.Hour)},
		{"/api/v1/campaigns/results?until=<7 d ago> (no start)", false, "/api/v1/campaigns/results?until=" + agoParam(7*24*time.Hour)},
		{"/admin/results/variants/friendly (all time)", true, "/admin/results/variants/friendly"},
		{"/admin/results/variants/friendly?tapped=1 (all time)", true, "/admin/results/variants/friendly?tapped=1"},
		{"/admin/results/variants/friendly?since=<7 days ago>", true, "/admin/results/variants/friendly?since=" +
			agoParam(7*24*time.Hour)},
		{"/admin/results/variants/friendly?since=<30 d>&until=<7 d ago>", true, "/admin/results/variants/friendly?since=" +
			agoParam(30*24*time.Hour) + "&until=" + agoParam(7*24*time.Hour)},
		{"/metrics", false, "/metrics"},
	}
}

// resultsSince is the results API for the window from d ago until now.
func resultsSince(d time.Duration) string {
	return "/api/v1/campaigns/results?since=" + agoParam(d)
}

// agoParam is the time d ago, to the minute, as the results API reads it.
func agoParam(d time.Duration) string {
	return url.QueryEscape(time.Now().UTC().Add(-d).Truncate(time.Minute).Format(time.RFC3339))
}

// dateAgo is the UTC date days ago (YYYY-MM-DD), as the results page's
// presets write it.
func dateAgo(days int) string {
	return time.Now().UTC().AddDate(0, 0, -days).Format(time.DateOnly)
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
