package main

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuAccount charges a cold run with all it cost: the CPU time the whole
// machine, PostgreSQL's processes and the server used from the run's start
// until its clicks were written (settle), per completed request. A
// server's CPU during the run alone leaves out PostgreSQL, which does most
// of a counted click's work, and the flush that ends after the run.
type cpuAccount struct {
	db     *sql.DB // one kept connection: a new one would charge its start-up
	settle func(context.Context) error
}

func newCPUAccount(dbURL string, settle func(context.Context) error) (*cpuAccount, error) {
	conn, err := sql.Open("postgres", dbURL)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	conn.SetConnMaxIdleTime(0)
	return &cpuAccount{db: conn, settle: settle}, nil
}

func (a *cpuAccount) close() { a.db.Close() }

// cpuSnapshot is the CPU time used so far: machine-wide, and per
// PostgreSQL process (by pid).
type cpuSnapshot struct {
	machine time.Duration
	pg      map[int]time.Duration
}

func (a *cpuAccount) snapshot(ctx context.Context) cpuSnapshot {
	return cpuSnapshot{machine: machineBusy(), pg: a.pgCPU(ctx)}
}

// charge waits for the run's clicks to be written and sets r's per-request
// figures from the CPU used since from (the server's since serverBefore).
// A PostgreSQL process that started during the run counts from zero; one
// that ended during it is missed (the servers' pools keep theirs).
func (a *cpuAccount) charge(ctx context.Context, from cpuSnapshot, pid int, serverBefore time.Duration, r *wrkRun) error {
	if err := a.settle(ctx); err != nil {
		return err
	}
	to := a.snapshot(ctx)
	var pg time.Duration
	for p, used := range to.pg {
		if before, ok := from.pg[p]; ok || used > 0 {
			pg += used - before
		}
	}
	n := time.Duration(r.requests)
	r.machinePerReq, r.pgPerReq = (to.machine-from.machine)/n, pg/n
	if to.pg == nil || from.pg == nil {
		r.pgPerReq = -1 // not known: PostgreSQL is not on this machine
	}
	r.serverPerReq = (processCPU(pid) - serverBefore) / n
	return nil
}

// pgCPU reads the CPU time of every PostgreSQL process the server lists
// (pg_stat_activity: client backends and the background processes), each
// checked to be a postgres process of this machine (a pid read from the
// wrong namespace would be some other process); nil when the server cannot
// be asked or is not on this machine. A process that has exited since it
// was listed is left out.
func (a *cpuAccount) pgCPU(ctx context.Context) map[int]time.Duration {
	rows, err := a.db.QueryContext(ctx, `SELECT pid, pid = pg_backend_pid() FROM pg_stat_activity`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	m := map[int]time.Duration{}
	local := false
	for rows.Next() {
		var p int
		var mine bool
		if rows.Scan(&p, &mine) != nil || !isPostgres(p) {
			continue
		}
		local = local || mine
		if used := processCPU(p); used > 0 {
			m[p] = used
		}
	}
	if !local {
		return nil
	}
	return m
}

// isPostgres reports whether pid is a PostgreSQL process here.
func isPostgres(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && strings.HasPrefix(string(b), "postgres")
}

// machineBusy is the CPU time all cores have spent on anything but idling
// and waiting for I/O (/proc/stat's first line: user, nice, system, irq and
// softirq; not steal, a neighbour's share of the host), in clock ticks of
// 1/100 s.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * (time.Second / 100)
}
