package redirects

import "time"

// The over-limit lane: lookups for clients over the unknown-slug limit.
//
// Such a client (a guesser, or a phone behind the same carrier address as
// one) is answered from the cache like anyone; only an uncached slug needs
// the database, and that lookup goes through this lane rather than the
// normal one. Its budget is its own and fixed per instance: one statement
// at a time, at most overLimitBatch slugs, statements at least
// overLimitGap apart: at most 100 statements and 50,000 slug probes a
// second, whatever the guessers send. A real slug asked for by such a
// client is thus always looked up (and redirected), while the misses cost
// the database a bounded amount and never take a slot of the normal lane.
// Past overLimitQueue slugs waiting (more than the lane can look up in
// 40 ms) the lane refuses (ErrBusy), and the handler answers 429: only a
// flood of that size from clients already over their limit can be refused.
const (
	overLimitBatch = 500
	overLimitGap   = 10 * time.Millisecond
	overLimitQueue = 2000
	overLimitWait  = time.Second
)

func newOverLimitLane(lookup func([]*lookup)) *lane {
	return &lane{lookup: lookup, maxInFlight: 1, maxBatch: overLimitBatch, maxQueue: overLimitQueue,
		maxWait: overLimitWait, minGap: overLimitGap}
}
