package stats

import (
	"math"
	"testing"
)

// The expected bounds were computed apart from Wilson's closed form: as
// the roots of the quadratic (p̂ − p)² = z² p(1 − p) / n in p (Python,
// math.sqrt, z = 1.959963984540054). 8 of 10 also matches published
// tables (0.490 to 0.943).
func TestWilsonMatchesAnIndependentComputation(t *testing.T) {
	for _, tt := range []struct {
		x, n      int64
		low, high float64
	}{
		{8, 10, 0.490162471537, 0.943317848546},
		{0, 20, 0, 0.161125158053},
		{20, 20, 0.838874841947, 1},
		{1, 1, 0.206549314377, 1},
		{45, 200, 0.172623697151, 0.287741232357},
		{500, 1000, 0.469069600368, 0.530930399632},
	} {
		low, high, ok := Wilson(tt.x, tt.n)
		if !ok || math.Abs(low-tt.low) > 1e-9 || math.Abs(high-tt.high) > 1e-9 {
			t.Errorf("Wilson(%d, %d) = %.12f, %.12f, %t; want %.12f, %.12f", tt.x, tt.n, low, high, ok, tt.low, tt.high)
		}
	}
	if _, _, ok := Wilson(0, 0); ok {
		t.Error("an interval with no trials")
	}
}
