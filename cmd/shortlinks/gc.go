package main

import "runtime/debug"

// The garbage collector's pacing for serve and dev. Go collects when the
// heap has grown by GOGC percent (default 100) over what the last
// collection kept. The server keeps a few megabytes live (phone-number
// metadata, language tables, the metrics registry, its connections'
// buffers) and allocates a little on every request, so at 100 it collects
// every few tens of milliseconds under load and marks those megabytes each
// time: about 6 % of a hot redirect's CPU in `perf`, against 1 % for a
// bare Echo server whose live heap is under the runtime's 4 MB floor. At
// 300 it collects a third as often (two servers side by side with Echo,
// six rotating wrk rounds: 0.926 → 0.955 of Echo's rate, median;
// docs/benchmarks.md). The memory limit keeps that from growing a
// large live heap fourfold: past 128 MiB of heap the collector runs as
// often as it must to stay under it. GOGC and GOMEMLIMIT, Go's own
// variables, override either (docs/operations.md).
const (
	serveGCPercent   = 300
	serveMemoryLimit = 128 << 20
)

// tuneGC applies the pacing above, each part unless the operator set its
// variable (lookup is os.LookupEnv).
func tuneGC(lookup func(string) (string, bool)) {
	if _, set := lookup("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
	if _, set := lookup("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}
