package handlers

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyedLimiter is a token bucket per key (a client IP), for the few paths
// that must be limited: failed sign-ins, unauthenticated API calls and
// unknown slugs. Idle buckets are swept so memory stays bounded.
type keyedLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// maxBuckets caps the map between sweeps; past it the oldest state is
// dropped wholesale rather than growing without bound under a flood of IPs.
const maxBuckets = 100_000

func newKeyedLimiter(perMinute float64, burst int) *keyedLimiter {
	return &keyedLimiter{limit: rate.Limit(perMinute / 60), burst: burst, buckets: map[string]*bucket{}}
}

// allow takes a token for key; when none is left it returns false and how
// long until one is.
func (k *keyedLimiter) allow(key string) (bool, time.Duration) {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweep(now)
	b := k.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(k.limit, k.burst)}
		k.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets buckets idle long enough to have refilled completely.
func (k *keyedLimiter) sweep(now time.Time) {
	if now.Sub(k.swept) < time.Minute && len(k.buckets) < maxBuckets {
		return
	}
	k.swept = now
	idle := time.Duration(float64(k.burst)/float64(k.limit)*float64(time.Second)) + time.Minute
	for key, b := range k.buckets {
		if now.Sub(b.seen) > idle {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) >= maxBuckets {
		k.buckets = map[string]*bucket{}
	}
}

// tooManyRequests is a 429 that carries Retry-After.
type tooManyRequests struct {
	APIError
	wait time.Duration
}

func newTooManyRequests(wait time.Duration, msg string) *tooManyRequests {
	return &tooManyRequests{APIError: APIError{Status: 429, Code: "rate_limited", Message: msg}, wait: wait}
}

// RetryAfter is the Retry-After header value in whole seconds.
func (e *tooManyRequests) RetryAfter() string {
	return strconv.Itoa(int(math.Ceil(max(e.wait.Seconds(), 1))))
}

// Unwrap lets errors.As find the APIError inside.
func (e *tooManyRequests) Unwrap() error { return &e.APIError }

// peek reports whether key has a token left, without taking it.
func (k *keyedLimiter) peek(key string) (bool, time.Duration) {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil || b.lim.TokensAt(now) >= 1 {
		return true, 0
	}
	missing := 1 - b.lim.TokensAt(now)
	return false, time.Duration(missing / float64(k.limit) * float64(time.Second))
}
