package public

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/web"
)

// guessGate is the unknown-slug limit on /{slug}. Each client (an IPv4
// address, or an IPv6 /64) has a token bucket of unknown slugs
// (Limits.NotFoundPerMinute, NotFoundBurst); a miss takes a token. A client
// whose bucket is empty is "over the limit" until it has a token again, and
// "suspect" from then until its bucket would be full again
// (NotFoundBurst / NotFoundPerMinute after its last refusal: 100 s by
// default), so a guesser that gets a token back now and then stays suspect
// between its refusals.
//
// A client is still redirected to every real link, over the limit or not:
// many phones share one carrier address, and a guesser among them must not
// lock the others out. Redirect (redirect.go) answers a client over the
// limit as follows:
//   - a slug the cache knows: from the cache, no lookup; an unknown one
//     gets 429, a real one its redirect;
//   - an uncached slug: looked up in the over-limit lane
//     (handlers/redirects/overlimit.go), whose statements are few and
//     bounded per instance and never take a slot of the normal lookups;
//     unknown: 429, real: redirect.
//
// A redirect for a suspect client (over the limit included) is not counted
// as a click but as a suspect tap, apart (handlers/redirects/suspect.go;
// shown on the link's page and in /metrics): it may be the guesser's own
// hit. So misses past the limit cost no token and learn nothing the 429
// did not already say, what they cost the database is bounded, and a
// recipient behind the same address is never refused a real link.
//
// The check runs on every redirect, so it costs one atomic load while no
// client is suspect; only then are the client's address and the map
// looked at.
type guessGate struct {
	lim *web.KeyedLimiter // the unknown-slug buckets, per client

	mu      sync.RWMutex          // read by every redirect while some client is suspect
	blocked map[string]guessBlock // client key → its block
	swept   time.Time
	n       atomic.Int64 // len(blocked), read without the lock
	limited atomic.Int64 // 429s answered, for /metrics
}

// guessBlock is a client's last refusal: over the limit until until,
// suspect until suspectUntil.
type guessBlock struct{ until, suspectUntil time.Time }

// guessState is what the gate says of a request's client.
type guessState struct {
	over    bool          // over the limit: misses get 429, lookups go to the over-limit lane
	suspect bool          // redirects count as suspect taps, not clicks (true whenever over is)
	wait    time.Duration // while over: until the client may ask again
}

func newGuessGate(lim *web.KeyedLimiter) *guessGate {
	return &guessGate{lim: lim, blocked: map[string]guessBlock{}}
}

// errGuessing is the message of the 429.
const errGuessing = "Too many requests for links that do not exist. Try again later."

// state says whether c's client is over the limit or suspect.
func (g *guessGate) state(c echo.Context) guessState {
	if g.n.Load() == 0 {
		return guessState{}
	}
	key, now := web.ClientKey(c.RealIP()), time.Now()
	g.mu.RLock()
	b, ok := g.blocked[key]
	g.mu.RUnlock()
	if ok && !now.Before(b.suspectUntil) {
		g.mu.Lock()
		if b, ok = g.blocked[key]; ok && !now.Before(b.suspectUntil) {
			delete(g.blocked, key)
			g.n.Store(int64(len(g.blocked)))
			ok = false
		}
		g.mu.Unlock()
	}
	if !ok {
		return guessState{}
	}
	if now.Before(b.until) {
		return guessState{over: true, suspect: true, wait: b.until.Sub(now)}
	}
	return guessState{suspect: true}
}

// refuse answers 429 to a client over the limit, for a slug that does not
// exist (or could not be looked up: the over-limit lane was full).
func (g *guessGate) refuse(wait time.Duration) error {
	g.limited.Add(1)
	return web.NewTooManyRequests(wait, errGuessing)
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
	refill := g.lim.RefillTime()
	g.mu.Lock()
	g.sweep(now)
	if len(g.blocked) < web.DefaultMaxClients { // as bounded as the limiter itself
		g.blocked[web.ClientKey(ip)] = guessBlock{until: now.Add(wait), suspectUntil: now.Add(refill)}
		g.n.Store(int64(len(g.blocked)))
	}
	g.mu.Unlock()
	return g.refuse(wait)
}

// sweep forgets, at most once a minute, clients no longer suspect who
// never came back; g.mu must be held.
func (g *guessGate) sweep(now time.Time) {
	if now.Sub(g.swept) < time.Minute {
		return
	}
	g.swept = now
	for key, b := range g.blocked {
		if !now.Before(b.suspectUntil) {
			delete(g.blocked, key)
		}
	}
	g.n.Store(int64(len(g.blocked)))
}
