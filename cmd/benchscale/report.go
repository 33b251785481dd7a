package main

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// printReport prints one table: every page's median and p95 per dataset,
// and the growth of the p95 from the smallest to the largest.
func printReport(w io.Writer, o options, results []sizeResult) {
	fmt.Fprintf(w, "\n## bench-scale: %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "machine: %s, %d CPUs (shared with the server, PostgreSQL and this client)\n", cpuModel(), runtime.NumCPU())
	fmt.Fprintf(w, "timed requests per page: %d after one warm-up, one at a time; time to the last byte over loopback\n\n", o.requests)
	header := "| page |"
	rule := "|---|"
	for _, r := range results {
		header += fmt.Sprintf(" %s median | %s p95 |", size(r.links), size(r.links))
		rule += "---:|---:|"
	}
	if len(results) > 1 {
		header += " p95 growth |"
		rule += "---:|"
	}
	fmt.Fprintln(w, header)
	fmt.Fprintln(w, rule)
	for i, p := range results[0].pages {
		line := "| " + p.name + " |"
		for _, r := range results {
			if i >= len(r.pages) {
				line += " – | – |"
				continue
			}
			q := r.pages[i]
			line += fmt.Sprintf(" %.1f ms | %.1f ms%s |", ms(q.median), ms(q.p95), q.failures)
		}
		if len(results) > 1 {
			last := results[len(results)-1]
			if i < len(last.pages) && p.p95 > 0 {
				line += fmt.Sprintf(" %.1f× |", float64(last.pages[i].p95)/float64(p.p95))
			}
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
	for _, r := range results {
		fmt.Fprintf(w, "%s links: check-duplicates %.1f s (the check itself %.1f s)", size(r.links), r.checkDup.Seconds(), r.checkSeconds)
		if r.exportRows > 0 {
			fmt.Fprintf(w, "; CSV export %d rows in %.1f s = %.0f rows/s, server RSS %d MB before, %d MB peak during",
				r.exportRows, r.exportTime.Seconds(), float64(r.exportRows)/r.exportTime.Seconds(), r.rssBeforeKB/1024, r.rssExportKB/1024)
		}
		fmt.Fprintln(w)
	}
}

func size(n int64) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func cpuModel() string {
	out, err := exec.Command("lscpu").Output()
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(line, "Model name:"); ok {
			return strings.TrimSpace(name)
		}
	}
	return runtime.GOARCH
}
