package web

import (
	"container/list"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// defaultMaxClients bounds how many clients each limiter tracks.
const DefaultMaxClients = 100_000

// keyedLimiter is a token bucket per key (a client IP), for the few paths
// that must be limited: failed sign-ins, unauthenticated API calls and
// unknown slugs. Buckets live in an LRU list: idle ones (refilled
// completely) are dropped, and past maxClients the least recently seen
// client is forgotten, so a flood of addresses bounds memory without any
// new client inheriting another's empty bucket. A client forgotten that
// way comes back with a full bucket; only a client idle while maxClients
// newer ones arrived can gain that way, and each of those newer ones has
// its own allowance anyway.
//
// The buckets are kept here rather than with x/time/rate because a
// sign-in must be able to give its token back once it succeeds, and
// rate.Reservation.Cancel restores nothing once the reservation's time has
// passed.
type KeyedLimiter struct {
	perSecond  float64
	burst      float64
	maxClients int

	mu      sync.Mutex
	buckets map[string]*list.Element // values are *bucket
	recent  list.List                // front: most recently seen
}

type bucket struct {
	key    string
	tokens float64   // as of at
	at     time.Time // when tokens was brought up to date
}

func newKeyedLimiter(perMinute float64, burst int) *KeyedLimiter {
	return &KeyedLimiter{perSecond: perMinute / 60, burst: float64(burst), maxClients: DefaultMaxClients,
		buckets: map[string]*list.Element{}}
}

// Allow takes a token for key; when none is left it returns false and how
// long until one is.
func (k *KeyedLimiter) Allow(key string) (bool, time.Duration) {
	ok, wait, _ := k.Reserve(key)
	return ok, wait
}

// Reserve takes a token for key like allow, and also returns a refund that
// gives the token back (for attempts that turn out not to count, such as a
// successful sign-in). A refund never lifts a bucket above its burst.
func (k *KeyedLimiter) Reserve(key string) (ok bool, wait time.Duration, refund func()) {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bucket(ClientKey(key), now)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / k.perSecond * float64(time.Second)), nil
	}
	b.tokens--
	return true, 0, func() { k.GiveBack(b) }
}

// GiveBack returns one token to b, if b is still tracked.
func (k *KeyedLimiter) GiveBack(b *bucket) {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if e := k.buckets[b.key]; e != nil && e.Value == b {
		k.refill(b, now)
		b.tokens = min(b.tokens+1, k.burst)
	}
}

// bucket returns key's bucket brought up to now, creating it (full) and
// marking it most recently seen; k.mu must be held.
func (k *KeyedLimiter) bucket(key string, now time.Time) *bucket {
	k.dropIdle(now)
	if e := k.buckets[key]; e != nil {
		k.recent.MoveToFront(e)
		b := e.Value.(*bucket)
		k.refill(b, now)
		return b
	}
	for len(k.buckets) >= max(k.maxClients, 1) {
		k.forget(k.recent.Back())
	}
	b := &bucket{key: key, tokens: k.burst, at: now}
	k.buckets[key] = k.recent.PushFront(b)
	return b
}

func (k *KeyedLimiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = min(k.burst, b.tokens+elapsed*k.perSecond)
	}
	b.at = now
}

// dropIdle forgets, from the least recently seen end, buckets untouched
// long enough to have refilled completely: forgetting them changes
// nothing. Each call does work only for what it removes.
func (k *KeyedLimiter) dropIdle(now time.Time) {
	full := time.Duration(k.burst / k.perSecond * float64(time.Second))
	for e := k.recent.Back(); e != nil && now.Sub(e.Value.(*bucket).at) > full; e = k.recent.Back() {
		k.forget(e)
	}
}

func (k *KeyedLimiter) forget(e *list.Element) {
	delete(k.buckets, e.Value.(*bucket).key)
	k.recent.Remove(e)
}

// tracked is how many clients the limiter currently remembers.
func (k *KeyedLimiter) tracked() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// clientKey folds an IPv6 address to its /64 (one subscriber's whole
// prefix); anything else is kept.
func ClientKey(key string) string {
	ip, err := netip.ParseAddr(key)
	if err != nil || ip.Is4() || ip.Is4In6() {
		return key
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// tooManyRequests is a 429 that carries Retry-After.
type tooManyRequests struct {
	APIError
	wait time.Duration
}

func NewTooManyRequests(wait time.Duration, msg string) *tooManyRequests {
	return &tooManyRequests{APIError: APIError{Status: 429, Code: "rate_limited", Message: msg}, wait: wait}
}

// RetryAfter is the Retry-After header value in whole seconds.
func (e *tooManyRequests) RetryAfter() string {
	return strconv.Itoa(int(math.Ceil(max(e.wait.Seconds(), 1))))
}

// Unwrap lets errors.As find the APIError inside.
func (e *tooManyRequests) Unwrap() error { return &e.APIError }
