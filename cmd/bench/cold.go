package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/lib/pq"
)

// The cold round: redirects of uniformly random slugs over coldLinks
// links, on a server whose cache is too small to hold any share of them,
// so (nearly) every redirect is a database lookup; against pgbench -S on
// the same PostgreSQL in the same run.

// coldSlugSQL spells link i's slug: "z" and i in five base-62 digits. The
// wrk script (coldScript) spells it the same way, so the two agree
// without a million-line file.
const coldSlugSQL = `'z' || substr(a, (i / 14776336) % 62 + 1, 1) || substr(a, (i / 238328) % 62 + 1, 1)
	|| substr(a, (i / 3844) % 62 + 1, 1) || substr(a, (i / 62) % 62 + 1, 1) || substr(a, i % 62 + 1, 1)`

// insertColdLinks bulk-inserts n links, and their link_counters rows, in
// one statement. The triggers are skipped when the role may
// (session_replication_role is for superusers): a million NOTIFYs would
// only tell the servers about slugs none of them has cached. The counters
// row the insert trigger would have made is inserted by the statement
// itself: without it a flush finds no row to add a link's clicks to and
// skips the link as deleted, so the counting round would write almost
// nothing (as it did before the eighth session's bench was checked; the
// round's count check, coldCounted, now catches that).
func insertColdLinks(ctx context.Context, dbURL string, n int) error {
	conn, err := sql.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer conn.Close()
	c, err := conn.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	c.ExecContext(ctx, `SET session_replication_role = replica`) // best effort, see above
	_, err = c.ExecContext(ctx, `
		WITH links AS (
			INSERT INTO short_links (slug, destination_url, link_type)
			SELECT `+coldSlugSQL+`,
			       'https://shop' || (i % 997) || '.example.com/products/' || i || '?utm_source=sms&utm_campaign=cold',
			       'campaign'
			FROM generate_series(0, $1::int - 1) AS i,
			     (SELECT '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'::text AS a) AS alphabet
			ON CONFLICT DO NOTHING
			RETURNING id)
		INSERT INTO link_counters (link_id) SELECT id FROM links
		ON CONFLICT DO NOTHING`, n)
	if err != nil {
		return fmt.Errorf("inserting %d links: %w", n, err)
	}
	c.ExecContext(ctx, `RESET session_replication_role`)
	_, err = c.ExecContext(ctx, `VACUUM ANALYZE short_links`)
	return err
}

// coldCounted is the clicks link_counters holds for the cold round's links
// (told apart by their destinations: a created link's random slug can look
// like theirs).
func coldCounted(ctx context.Context, dbURL string) (int64, error) {
	conn, err := sql.Open("postgres", dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var n int64
	err = conn.QueryRowContext(ctx, `SELECT COALESCE(SUM(c.click_count), 0) FROM link_counters c
		JOIN short_links l ON l.id = c.link_id WHERE l.destination_url LIKE '%&utm_campaign=cold'`).Scan(&n)
	return n, err
}

// coldScript writes the wrk script asking for uniformly random slugs among
// the n inserted links; each wrk thread seeds its own generator.
func coldScript(dir string, n int) (string, error) {
	script := fmt.Sprintf(`local alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
local n = %d
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + id * 7919)
end
function request()
  local i = math.random(0, n - 1)
  local s = ""
  for _ = 1, 5 do
    local d = i %% 62
    s = string.sub(alphabet, d + 1, d + 1) .. s
    i = math.floor(i / 62)
  end
  return wrk.format("GET", "/z" .. s)
end
`, n)
	path := filepath.Join(dir, "cold.lua")
	return path, os.WriteFile(path, []byte(script), 0o644)
}

// pgbenchDatabase creates a database next to dbURL's and initialises it
// for pgbench at scale; the returned function drops it.
func pgbenchDatabase(ctx context.Context, dbURL string, scale int) (string, func(), error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("postgres", dbURL)
	if err != nil {
		return "", nil, err
	}
	name := filepath.Base(u.Path) + "_pgbench"
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	drop := func() {
		admin.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
		admin.Close()
	}
	u.Path = "/" + name
	out, err := exec.CommandContext(ctx, "pgbench", "-i", "-q", "-s", strconv.Itoa(scale), u.String()).CombinedOutput()
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("pgbench -i: %v\n%s", err, out)
	}
	return u.String(), drop, nil
}

var reProgress = regexp.MustCompile(`(?m)^progress: ([\d.]+) s, ([\d.]+) tps`)

// pgbenchTarget is `pgbench -S -M simple -c 16 -j 2` for one round, measured
// at steady state: each run goes on for ramp before the measured seconds,
// and its rate is the mean of pgbench's per-second progress reports after
// the ramp. pgbench opens 16 new server processes per run, while the
// servers it is compared with keep their database connections; on a
// machine where page faults are dear a new backend is slow for seconds
// (on an AMD EPYC VM, 7.6k tps in the first second, 28k from the sixth,
// docs/benchmarks.md), and a 3-second run measured that ramp, not
// PostgreSQL.
func pgbenchTarget(url string, ramp time.Duration) target {
	return target{
		name: "pgbench -S -M simple -c 16 -j 2 (scale 10)",
		run: func(ctx context.Context, d time.Duration) (wrkRun, error) {
			rampSecs, secs := int(ramp.Round(time.Second).Seconds()), max(int(d.Round(time.Second).Seconds()), 1)
			// One second more than measured: pgbench may leave out the
			// report of its last second.
			cmd := exec.CommandContext(ctx, "pgbench", "-n", "-S", "-M", "simple", "-c", "16", "-j", "2",
				"-P", "1", "-T", strconv.Itoa(rampSecs+secs+1), url)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				return wrkRun{}, fmt.Errorf("pgbench: %v\n%s", err, out)
			}
			r := wrkRun{loadCPU: cpuShare(cmd, time.Since(start))}
			// Each report covers the time since the one before; a loaded
			// machine can make them uneven (7.0 s, then 8.3 s), so the rate
			// is weighted by the time each covers.
			var transactions, covered, prev float64
			for _, m := range reProgress.FindAllSubmatch(out, -1) {
				at, _ := strconv.ParseFloat(string(m[1]), 64)
				tps, _ := strconv.ParseFloat(string(m[2]), 64)
				if at > float64(rampSecs) && at <= float64(rampSecs+secs)+0.5 {
					transactions += tps * (at - max(prev, float64(rampSecs)))
					covered += at - max(prev, float64(rampSecs))
				}
				prev = at
			}
			if covered <= 0 {
				return wrkRun{}, fmt.Errorf("pgbench: no progress report after its %d s ramp:\n%s", rampSecs, out)
			}
			r.perSecond = transactions / covered
			return r, nil
		},
	}
}
