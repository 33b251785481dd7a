package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// target is one server under load.
type target struct {
	name string
	url  string
}

// run is what wrk reported for one round.
type wrkRun struct {
	requests   int64 // completed responses
	non3xx     int64 // responses that were neither 2xx nor 3xx
	perSecond  float64
	p50, p99   time.Duration
	socketErrs string
}

// targetResult is every round against one target; warm-up runs count for
// the redirect accounting but not for the figures.
type targetResult struct {
	target
	rounds []wrkRun
	warmup []wrkRun
}

// measure warms both targets up, then runs the rounds alternately,
// flipping which goes first each round so neither always runs on a
// warmer (or hotter) machine.
func measure(ctx context.Context, s settings, targets []target) ([]targetResult, error) {
	results := make([]targetResult, len(targets))
	for i, t := range targets {
		results[i].target = t
		r, err := runWrk(ctx, s, t.url, s.warmup)
		if err != nil {
			return nil, err
		}
		results[i].warmup = append(results[i].warmup, r)
	}
	for round := range s.rounds {
		order := []int{0, 1}
		if round%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			r, err := runWrk(ctx, s, targets[i].url, s.duration)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(os.Stderr, "bench: round %d %-34s %9.0f req/s  p50 %-8s p99 %s\n",
				round+1, targets[i].name, r.perSecond, r.p50, r.p99)
			results[i].rounds = append(results[i].rounds, r)
		}
	}
	return results, nil
}

func runWrk(ctx context.Context, s settings, url string, d time.Duration) (wrkRun, error) {
	cmd := exec.CommandContext(ctx, s.wrk, "-t", strconv.Itoa(s.threads), "-c", strconv.Itoa(s.connections),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), "--latency", url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkRun{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrk(string(out))
}

var (
	reRequests = regexp.MustCompile(`(\d+) requests in`)
	reRate     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reNon3xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reP50      = regexp.MustCompile(`\s50%\s+([\d.]+\w+)`)
	reP99      = regexp.MustCompile(`\s99%\s+([\d.]+\w+)`)
	reSocket   = regexp.MustCompile(`Socket errors: .*`)
)

// parseWrk reads wrk's text report.
func parseWrk(out string) (wrkRun, error) {
	var r wrkRun
	m := reRequests.FindStringSubmatch(out)
	rate := reRate.FindStringSubmatch(out)
	p50, p99 := reP50.FindStringSubmatch(out), reP99.FindStringSubmatch(out)
	if m == nil || rate == nil || p50 == nil || p99 == nil {
		return r, fmt.Errorf("unexpected wrk output:\n%s", out)
	}
	r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	r.perSecond, _ = strconv.ParseFloat(rate[1], 64)
	if n := reNon3xx.FindStringSubmatch(out); n != nil {
		r.non3xx, _ = strconv.ParseInt(n[1], 10, 64)
	}
	var err error
	if r.p50, err = parseWrkDuration(p50[1]); err != nil {
		return r, err
	}
	if r.p99, err = parseWrkDuration(p99[1]); err != nil {
		return r, err
	}
	r.socketErrs = reSocket.FindString(out)
	return r, nil
}

// parseWrkDuration reads wrk's "812.00us", "1.20ms", "2.00s".
func parseWrkDuration(s string) (time.Duration, error) {
	return time.ParseDuration(strings.Replace(s, "us", "µs", 1))
}

// sumRedirects is how many redirects wrk saw complete against a target:
// every completed response that was a 2xx or 3xx.
func sumRedirects(t targetResult) int64 {
	var n int64
	for _, r := range append(append([]wrkRun{}, t.warmup...), t.rounds...) {
		n += r.requests - r.non3xx
	}
	return n
}
