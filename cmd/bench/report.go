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
func report(w io.Writer, s settings, results []targetResult, mem memory, acc accounting) {
	fmt.Fprintf(w, "\n### Machine\n\n%s\n", machine())
	fmt.Fprintf(w, "\n### Load\n\nwrk -t%d -c%d -d%s --latency, %d rounds per target after a %s warm-up each, alternating (order flips every round); medians.\n\n",
		s.threads, s.connections, s.duration, s.rounds, s.warmup)
	fmt.Fprintln(w, "| target | requests/s | p50 | p99 | requests/s per round |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|")
	a, b := results[0], results[1]
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s |\n", r.name, median(r.rounds, rate), fmtDur(medianDur(r.rounds, p50)),
			fmtDur(medianDur(r.rounds, p99)), perRound(r.rounds))
	}
	ratio := median(a.rounds, rate) / median(b.rounds, rate)
	p99Ratio := float64(medianDur(a.rounds, p99)) / float64(medianDur(b.rounds, p99))
	fmt.Fprintf(w, "| **ratio a/b** | **%.2f×** (target ≥ 0.85) | %.2f× | **%.2f×** (target ≤ 1.5) | %s |\n",
		ratio, float64(medianDur(a.rounds, p50))/float64(medianDur(b.rounds, p50)), p99Ratio, roundRatios(a.rounds, b.rounds))
	for _, r := range results {
		for _, run := range r.rounds {
			if run.socketErrs != "" {
				fmt.Fprintf(w, "\n%s: %s", r.name, run.socketErrs)
			}
		}
	}
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

// roundRatios lists a/b round by round, and their median: the two runs of
// a round are back to back, so their ratio suffers least from the
// machine's load changing over the whole run.
func roundRatios(a, b []wrkRun) string {
	var parts []string
	var ratios []wrkRun
	for i := range min(len(a), len(b)) {
		r := a[i].perSecond / b[i].perSecond
		parts = append(parts, fmt.Sprintf("%.2f", r))
		ratios = append(ratios, wrkRun{perSecond: r})
	}
	return fmt.Sprintf("%s (median %.2f)", strings.Join(parts, ", "), median(ratios, rate))
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
	return fmt.Sprintf("- CPU: %s, %d cores available (runtime.NumCPU), shared by wrk, both servers and PostgreSQL\n- Memory: %.1f GB\n- Kernel: Linux %s\n- Go: %s; %s",
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
