package main

import (
	"runtime/debug"
	"testing"
)

// serve's pacing applies unless the operator chose their own: an operator's
// GOGC or GOMEMLIMIT is what the runtime read at start, and must stay.
func TestTuneGCKeepsTheOperatorsSettings(t *testing.T) {
	prevPercent, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(prevPercent); debug.SetMemoryLimit(prevLimit) })
	read := func() (int, int64) {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p, debug.SetMemoryLimit(-1)
	}
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	for _, tc := range []struct {
		name        string
		vars        map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{"neither set", nil, serveGCPercent, serveMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "100"}, 100, serveMemoryLimit},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, serveGCPercent, 1 << 30},
	} {
		// What the runtime would have read from those variables at start.
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(1 << 30)
		tuneGC(env(tc.vars))
		if percent, limit := read(); percent != tc.wantPercent || limit != tc.wantLimit {
			t.Errorf("%s: GC percent %d, memory limit %d; want %d and %d", tc.name, percent, limit, tc.wantPercent, tc.wantLimit)
		}
	}
}
