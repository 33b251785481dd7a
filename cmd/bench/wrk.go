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

// target is one thing under load: a wrk URL (with an optional Lua script)
// or, for the database baseline, a pgbench command.
type target struct {
	name   string
	url    string
	script string // wrk -s, empty for none
	pid    int    // server process whose CPU time is reported; 0 for none
	run    func(ctx context.Context, d time.Duration) (wrkRun, error)
	// account, when set, also measures what each request cost the whole
	// machine and PostgreSQL, until its clicks are written (cpuAccount).
	account *cpuAccount
}

// run is what the load generator reported for one round.
type wrkRun struct {
	requests   int64 // completed responses
	non3xx     int64 // responses that were neither 2xx nor 3xx
	perSecond  float64
	p50, p99   time.Duration
	socketErrs string
	loadCPU    float64 // cores used by the load generator (user+sys / wall)
	// Per completed request, from the run's start until its clicks were
	// written (target.account; zero without it): CPU time of the whole
	// machine, of PostgreSQL's processes, and of the server.
	machinePerReq, pgPerReq, serverPerReq time.Duration
	serverCPU                             float64 // cores used by the server process, when known
}

// targetResult is every round against one target; warm-up runs count for
// the redirect accounting but not for the figures.
type targetResult struct {
	target
	rounds []wrkRun
	warmup []wrkRun
}

// measure warms every target up, then runs the rounds back to back,
// rotating which goes first each round so none always runs on a warmer (or
// hotter) machine. Ratios are taken within a round.
func measure(ctx context.Context, s settings, targets []target) ([]targetResult, error) {
	return measureSettled(ctx, s, targets, nil)
}

// measureSettled is measure calling settle, when not nil, before every run
// (warm-ups included): the cold rounds wait there for the clicks of the
// previous run to be written.
func measureSettled(ctx context.Context, s settings, targets []target, settle func(context.Context) error) ([]targetResult, error) {
	results := make([]targetResult, len(targets))
	for i, t := range targets {
		results[i].target = t
		if settle != nil {
			if err := settle(ctx); err != nil {
				return nil, err
			}
		}
		r, err := runTarget(ctx, s, t, s.warmup)
		if err != nil {
			return nil, err
		}
		results[i].warmup = append(results[i].warmup, r)
	}
	for round := range s.rounds {
		for k := range targets {
			i := (round + k) % len(targets)
			if settle != nil {
				if err := settle(ctx); err != nil {
					return nil, err
				}
			}
			r, err := runTarget(ctx, s, targets[i], s.duration)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(os.Stderr, "bench: round %d %-44s %9.0f/s  p50 %-8s p99 %-8s load %.2f cores\n",
				round+1, targets[i].name, r.perSecond, r.p50, r.p99, r.loadCPU)
			results[i].rounds = append(results[i].rounds, r)
		}
	}
	return results, nil
}

// runTarget runs one round, recording the server's CPU time around it.
func runTarget(ctx context.Context, s settings, t target, d time.Duration) (wrkRun, error) {
	before := processCPU(t.pid)
	var acct cpuSnapshot
	if t.account != nil {
		acct = t.account.snapshot(ctx)
	}
	start := time.Now()
	var r wrkRun
	var err error
	if t.run != nil {
		r, err = t.run(ctx, d)
	} else {
		r, err = runWrk(ctx, s, t, d)
	}
	if t.pid != 0 {
		r.serverCPU = (processCPU(t.pid) - before).Seconds() / time.Since(start).Seconds()
	}
	if err == nil && t.account != nil && r.requests > 0 {
		err = t.account.charge(ctx, acct, t.pid, before, &r)
	}
	return r, err
}

func runWrk(ctx context.Context, s settings, t target, d time.Duration) (wrkRun, error) {
	args := []string{"-t", strconv.Itoa(s.threads), "-c", strconv.Itoa(s.connections),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), "--latency"}
	if t.script != "" {
		args = append(args, "-s", t.script)
	}
	cmd := exec.CommandContext(ctx, s.wrk, append(args, t.url)...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkRun{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	r.loadCPU = cpuShare(cmd, time.Since(start))
	return r, err
}

// cpuShare is the cores a finished command used on average.
func cpuShare(cmd *exec.Cmd, wall time.Duration) float64 {
	st := cmd.ProcessState
	return (st.UserTime() + st.SystemTime()).Seconds() / wall.Seconds()
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
