package handlers

import (
	"math"
	"net/netip"
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

// maxBuckets caps the map; past it new clients share an overflow bucket.
const maxBuckets = 100_000

func newKeyedLimiter(perMinute float64, burst int) *keyedLimiter {
	return &keyedLimiter{limit: rate.Limit(perMinute / 60), burst: burst, buckets: map[string]*bucket{}}
}

// allow takes a token for key; when none is left it returns false and how
// long until one is.
func (k *keyedLimiter) allow(key string) (bool, time.Duration) {
	ok, wait, _ := k.reserve(key)
	return ok, wait
}

// bucket returns key's bucket, creating it; k.mu must be held. Clients are
// keyed by address, IPv6 ones by their /64 (one subscriber's whole prefix),
// and once the map is full new clients share one overflow bucket: a flood
// of addresses can neither grow memory nor reset anyone's allowance.
func (k *keyedLimiter) bucket(key string, now time.Time) *bucket {
	k.sweep(now)
	key = clientKey(key)
	b := k.buckets[key]
	if b == nil {
		if len(k.buckets) >= maxBuckets {
			key = "overflow"
			if b = k.buckets[key]; b != nil {
				b.seen = now
				return b
			}
		}
		b = &bucket{lim: rate.NewLimiter(k.limit, k.burst)}
		k.buckets[key] = b
	}
	b.seen = now
	return b
}

// clientKey folds an IPv6 address to its /64; anything else is kept.
func clientKey(key string) string {
	ip, err := netip.ParseAddr(key)
	if err != nil || ip.Is4() || ip.Is4In6() {
		return key
	}
	p, _ := ip.Prefix(64)
	return p.String()
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

// reserve takes a token for key like allow, and also returns a refund that
// gives the token back (for attempts that turn out not to count).
func (k *keyedLimiter) reserve(key string) (ok bool, wait time.Duration, refund func()) {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bucket(key, now)
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d, nil
	}
	return true, 0, func() { r.Cancel() }
}
