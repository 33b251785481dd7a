package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// memory is the benchmarked server's resident memory, in kB.
type memory struct {
	peakRSS   int64 // largest VmRSS sampled during the rounds
	highWater int64 // VmHWM before shutdown
}

// accounting compares redirects served with clicks stored.
type accounting struct {
	wrkRedirects   int64 // redirects wrk saw complete on the hot link
	hotCounted     int64 // click_count of the hot link
	exactServed    int64 // redirects served in the exact-count check
	exactCounted   int64 // click_count of that link
	serverCounted  int64 // clicks the server counted (its shutdown log)
	serverFlushed  int64 // clicks the server wrote
	serverDropped  int64
	connectionsCap int64 // requests wrk may abandon in flight, over all its runs
}

// report prints the results as Markdown, ready for docs/benchmarks.md.
// results are shortlinks, the Echo baseline and the net/http baseline.
func report(w io.Writer, s settings, results []targetResult, mem memory, acc accounting) {
	fmt.Fprintf(w, "\n### Machine\n\n%s\n", machine())
	fmt.Fprintf(w, "\n### Hot path\n\nwrk -t%d -c%d -d%s --latency, %d rounds per target after a %s warm-up each, back to back, the order rotating every round; medians.\n\n",
		s.threads, s.connections, s.duration, s.rounds, s.warmup)
	table(w, results)
	a, echo, nethttp := results[0], results[1], results[2]
	fmt.Fprintf(w, "| **shortlinks / Echo** | **%s** (target ≥ 0.95) | %.2f× | **%.2f×** (target ≤ 1.5) | | | %s |\n",
		medianRatio(a.rounds, echo.rounds), durRatio(a, echo, p50), durRatio(a, echo, p99), roundRatios(a.rounds, echo.rounds))
	fmt.Fprintf(w, "| net/http / Echo | %s | | | | | %s |\n",
		medianRatio(nethttp.rounds, echo.rounds), roundRatios(nethttp.rounds, echo.rounds))
	fmt.Fprintf(w, "\nServer CPU per request (median of the rounds): shortlinks %.1f µs, Echo %.1f µs, net/http %.1f µs; "+
		"Echo's CPU per request over shortlinks' %.2f× (a figure the machine's other load disturbs less than requests/s).\n",
		cpuPerRequest(a), cpuPerRequest(echo), cpuPerRequest(nethttp), cpuPerRequest(echo)/cpuPerRequest(a))
	fmt.Fprintln(w, "\nRatios are medians of the per-round ratios (the runs of a round are back to back). The load generator is not the")
	fmt.Fprintln(w, "bottleneck when net/http / Echo ≥ 1: the same wrk drives the plainer server faster.")
	socketErrors(w, results)
	fmt.Fprintf(w, "\nServer memory: peak VmRSS sampled during the rounds %.1f MB, VmHWM %.1f MB (target < 100 MB).\n",
		float64(mem.peakRSS)/1024, float64(mem.highWater)/1024)

	fmt.Fprintf(w, "\n### Clicks after SIGTERM\n\n| link | redirects served | click_count in the database | difference |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(w, "| exact check (%d clients × %d, every response awaited) | %d | %d | %d |\n",
		s.exactConns, s.exactEach, acc.exactServed, acc.exactCounted, acc.exactCounted-acc.exactServed)
	fmt.Fprintf(w, "| hot link, as counted by the server | %d | %d | %d |\n",
		acc.serverCounted-acc.exactServed, acc.hotCounted, acc.hotCounted-(acc.serverCounted-acc.exactServed))
	fmt.Fprintf(w, "| hot link, as completed by wrk | %d | %d | %d (wrk drops up to %d in-flight responses over its runs) |\n",
		acc.wrkRedirects, acc.hotCounted, acc.hotCounted-acc.wrkRedirects, acc.connectionsCap)
	fmt.Fprintf(w, "\nServer totals at exit: %d clicks counted, %d written, %d dropped.\n", acc.serverCounted, acc.serverFlushed, acc.serverDropped)
	ok := acc.exactCounted == acc.exactServed && acc.serverFlushed == acc.serverCounted && acc.serverDropped == 0 &&
		acc.hotCounted == acc.serverCounted-acc.exactServed
	fmt.Fprintf(w, "Lost or double-counted clicks: %s\n", map[bool]string{true: "0", false: "MISMATCH (see above)"}[ok])
}

// reportCold prints the cold rounds: the lookup-only server, the counting
// server and pgbench -S, with each server's ratio to pgbench per round.
// echo is the hot round's constant-302 Echo baseline: what the same wrk
// drove on this machine, the check that wrk did not limit the cold rounds.
func reportCold(w io.Writer, s settings, c *coldResults, echo targetResult) {
	fmt.Fprintf(w, "\n### Cold path\n\n%d links bulk-inserted; the redirects ask for uniformly random ones (wrk -t%d -c%d -d%s with a Lua script)\n",
		s.coldLinks, s.threads, s.connections, s.duration)
	fmt.Fprintln(w, "of two more servers whose caches hold 1,000 slugs: one whose counting stops at MAX_PENDING_CLICKS=1 (the lookup path alone)")
	fmt.Fprintln(w, "and one counting every click and flushing every second (nearly every click a row of its own); pgbench on a scale-10")
	fmt.Fprintf(w, "database of the same PostgreSQL; %d rounds, rotating. Before every run the counting server's clicks are all written\n", s.rounds)
	fmt.Fprintln(w, "(its shortlinks_clicks_pending is 0), so no run shares the machine with another run's flush.")
	fmt.Fprintf(w, "Each pgbench run opens 16 new server processes and is measured only after a %s ramp (its per-second progress\n", s.pgbenchRamp.Round(time.Second))
	fmt.Fprintln(w, "reports after it, weighted by the time each covers), as the servers keep their warm database connections from one run")
	fmt.Fprintln(w, "to the next. Its CPU column covers the ramp too.")
	fmt.Fprintln(w)
	results := []targetResult{c.lookups, c.counting, c.pgbench}
	table(w, results)
	for _, r := range []targetResult{c.lookups, c.counting} {
		fmt.Fprintf(w, "| **%s / pgbench** | **%s** (target ≥ 1.0) | | p99 %s (target ≤ 20ms) | | | %s |\n",
			r.name, medianRatio(r.rounds, c.pgbench.rounds), fmtDur(medianDur(r.rounds, p99)), roundRatios(r.rounds, c.pgbench.rounds))
	}
	fmt.Fprintf(w, "\npgbench -S alone, before any cold redirect ran: %.0f tps (the rotated pgbench runs: median %.0f).\n",
		c.alone.perSecond, median(c.pgbench.rounds, rate))
	fmt.Fprintln(w, "\nCPU time per cold redirect, from a run's start until its clicks were written (medians; PostgreSQL: its processes")
	fmt.Fprintln(w, "in pg_stat_activity; the machine: every core's busy time, wrk and the kernel included). pgbench -S at the rotated")
	fmt.Fprintf(w, "median rate on %d busy cores would be %s of machine CPU per transaction.\n\n", runtime.NumCPU(),
		fmtDur(time.Duration(float64(runtime.NumCPU())*float64(time.Second)/median(c.pgbench.rounds, rate))))
	fmt.Fprintln(w, "| target | server | PostgreSQL | machine |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, r := range []targetResult{c.lookups, c.counting} {
		per := func(f func(wrkRun) time.Duration) string {
			if d := medianDur(r.rounds, f); d >= 0 {
				return fmtDur(d)
			}
			return "n/a (not on this machine)"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.name,
			per(func(x wrkRun) time.Duration { return x.serverPerReq }),
			per(func(x wrkRun) time.Duration { return x.pgPerReq }),
			per(func(x wrkRun) time.Duration { return x.machinePerReq }))
	}
	fmt.Fprintln(w)
	wrkCPU := max(median(c.lookups.rounds, func(x wrkRun) float64 { return x.loadCPU }),
		median(c.counting.rounds, func(x wrkRun) float64 { return x.loadCPU }))
	fmt.Fprintf(w, "Load generator: wrk used at most %.2f cores (median) in the cold runs, and drove the constant-302 Echo server at %.0f/s\n",
		wrkCPU, median(echo.rounds, rate))
	fmt.Fprintln(w, "in the hot round: the cold figures are not wrk's limit.")
	for _, r := range []targetResult{c.lookups, c.counting} {
		var non3xx int64
		for _, run := range r.rounds {
			non3xx += run.non3xx
		}
		fmt.Fprintf(w, "Answers other than 302 during the measured runs of %q: %d.\n", r.name, non3xx)
	}
	fmt.Fprintf(w, "Clicks the lookup-only server wrote: %d (its counting stops at one pending row).\n", c.flushedDuringLookups)
	fmt.Fprintf(w, "Clicks on the cold links' counters: %d, as many as the two servers wrote.\n", c.counted)
	fmt.Fprintf(w, "Cache misses per lookup statement (misses arriving together share one): lookup-only server %.1f, counting server %.1f (0: not reported by this binary).\n",
		c.missesPerStatement[0], c.missesPerStatement[1])
	socketErrors(w, results)
}

// table prints one row per target; server CPU is blank for pgbench, whose
// server is PostgreSQL's many backends.
func table(w io.Writer, results []targetResult) {
	fmt.Fprintln(w, "| target | per second | p50 | p99 | load generator CPU | server CPU | per round |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	for _, r := range results {
		lat50, lat99, server := fmtDur(medianDur(r.rounds, p50)), fmtDur(medianDur(r.rounds, p99)), ""
		if r.run != nil {
			lat50, lat99 = "", ""
		}
		if r.pid != 0 {
			server = fmt.Sprintf("%.2f cores", median(r.rounds, func(x wrkRun) float64 { return x.serverCPU }))
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %.2f cores | %s | %s |\n", r.name, median(r.rounds, rate), lat50, lat99,
			median(r.rounds, func(x wrkRun) float64 { return x.loadCPU }), server, perRound(r.rounds))
	}
}

func socketErrors(w io.Writer, results []targetResult) {
	for _, r := range results {
		for _, run := range r.rounds {
			if run.socketErrs != "" {
				fmt.Fprintf(w, "\n%s: %s", r.name, run.socketErrs)
			}
		}
	}
}

// medianRatio is the median of a/b over the rounds.
func medianRatio(a, b []wrkRun) string {
	var ratios []wrkRun
	for i := range min(len(a), len(b)) {
		ratios = append(ratios, wrkRun{perSecond: a[i].perSecond / b[i].perSecond})
	}
	return fmt.Sprintf("%.2f×", median(ratios, rate))
}

// cpuPerRequest is the median over the rounds of the server's CPU time
// per request served, in µs.
func cpuPerRequest(t targetResult) float64 {
	return median(t.rounds, func(r wrkRun) float64 { return r.serverCPU / r.perSecond * 1e6 })
}

// durRatio is the ratio of two targets' median latencies.
func durRatio(a, b targetResult, f func(wrkRun) time.Duration) float64 {
	return float64(medianDur(a.rounds, f)) / float64(medianDur(b.rounds, f))
}

func rate(r wrkRun) float64         { return r.perSecond }
func p50(r wrkRun) time.Duration    { return r.p50 }
func p99(r wrkRun) time.Duration    { return r.p99 }
func fmtDur(d time.Duration) string { return d.Round(time.Microsecond).String() }

func median(runs []wrkRun, f func(wrkRun) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func medianDur(runs []wrkRun, f func(wrkRun) time.Duration) time.Duration {
	return time.Duration(median(runs, func(r wrkRun) float64 { return float64(f(r)) }))
}

func perRound(runs []wrkRun) string {
	var parts []string
	for _, r := range runs {
		parts = append(parts, strconv.FormatFloat(r.perSecond, 'f', 0, 64))
	}
	return strings.Join(parts, ", ")
}

// roundRatios lists a/b round by round: the runs of a round are back to
// back, so their ratio suffers least from the machine's load changing over
// the whole run.
func roundRatios(a, b []wrkRun) string {
	var parts []string
	for i := range min(len(a), len(b)) {
		parts = append(parts, fmt.Sprintf("%.2f", a[i].perSecond/b[i].perSecond))
	}
	return strings.Join(parts, ", ")
}

// machine describes where the numbers come from.
func machine() string {
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	memKB := procMeminfoKB("MemTotal")
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	wrk, _ := exec.Command("wrk", "-v").CombinedOutput()
	return fmt.Sprintf("- CPU: %s, %d cores available (runtime.NumCPU), shared by the load generators, the servers and PostgreSQL\n- Memory: %.1f GB\n- Kernel: Linux %s\n- Go: %s; %s",
		cpu, runtime.NumCPU(), float64(memKB)/1024/1024, strings.TrimSpace(string(kernel)), runtime.Version(), firstLine(string(wrk)))
}

func procMeminfoKB(field string) int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}
