package public

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// guessGate is the unknown-slug limit on /{slug}. Each client has a token
// bucket of unknown slugs (Limits.NotFoundPerMinute, NotFoundBurst); a miss
// takes a token. A client whose bucket is empty is "blocked" until it has
// a token again, and while blocked every slug it asks for, real or not, is
// answered 429 before any lookup: a guesser neither learns which slugs
// exist nor costs the database a query.
//
// The check runs on every redirect, so it costs one atomic load while no
// client is blocked; only then are the client's address and the blocked
// set looked at.
type guessGate struct {
	lim *web.KeyedLimiter // the unknown-slug buckets, per client

	mu      sync.RWMutex         // read by every redirect while someone is blocked
	blocked map[string]time.Time // client key → when it may ask again
	swept   time.Time
	n       atomic.Int64 // len(blocked), read without the lock
	limited atomic.Int64 // 429s answered, for /metrics
}

func newGuessGate(lim *web.KeyedLimiter) *guessGate {
	return &guessGate{lim: lim, blocked: map[string]time.Time{}}
}

// errGuessing is the message of the 429.
const errGuessing = "Too many requests for links that do not exist. Try again later."

// check answers 429 when c's client is blocked.
func (g *guessGate) check(c echo.Context) error {
	if g.n.Load() == 0 {
		return nil
	}
	key, now := web.ClientKey(c.RealIP()), time.Now()
	g.mu.RLock()
	until, ok := g.blocked[key]
	g.mu.RUnlock()
	if ok && !now.Before(until) {
		g.mu.Lock()
		if until, ok = g.blocked[key]; ok && !now.Before(until) {
			delete(g.blocked, key)
			g.n.Store(int64(len(g.blocked)))
			ok = false
		}
		g.mu.Unlock()
	}
	if ok {
		g.limited.Add(1)
		return web.NewTooManyRequests(until.Sub(now), errGuessing)
	}
	return nil
}

// miss records an unknown slug for c's client and returns the 404, or the
// 429 once the client's allowance is used up, blocking it until its next
// token.
func (g *guessGate) miss(c echo.Context) error {
	ip := c.RealIP()
	ok, wait := g.lim.Allow(ip)
	if ok {
		return web.ErrNoSuchLink
	}
	now := time.Now()
	g.mu.Lock()
	g.sweep(now)
	if len(g.blocked) < web.DefaultMaxClients { // as bounded as the limiter itself
		g.blocked[web.ClientKey(ip)] = now.Add(wait)
		g.n.Store(int64(len(g.blocked)))
	}
	g.mu.Unlock()
	g.limited.Add(1)
	return web.NewTooManyRequests(wait, errGuessing)
}

// sweep forgets, at most once a minute, clients whose block has ended but
// who never came back; g.mu must be held.
func (g *guessGate) sweep(now time.Time) {
	if now.Sub(g.swept) < time.Minute {
		return
	}
	g.swept = now
	for key, until := range g.blocked {
		if !now.Before(until) {
			delete(g.blocked, key)
		}
	}
}
