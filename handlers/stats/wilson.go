// Package stats holds the statistics the results page shows.
package stats

import "math"

// z95 is the standard normal quantile for a two-sided 95% interval.
const z95 = 1.959963984540054

// Wilson returns the Wilson score interval at 95% for successes out of
// trials. It stays inside [0, 1] and behaves at 0 and at trials, unlike
// the normal approximation. ok is false when trials is 0 (no interval).
func Wilson(successes, trials int64) (low, high float64, ok bool) {
	if trials <= 0 || successes < 0 || successes > trials {
		return 0, 0, false
	}
	n, p := float64(trials), float64(successes)/float64(trials)
	z2 := z95 * z95
	denom := 1 + z2/n
	center := (p + z2/(2*n)) / denom
	half := z95 * math.Sqrt(p*(1-p)/n+z2/(4*n*n)) / denom
	return max(0, center-half), min(1, center+half), true
}
