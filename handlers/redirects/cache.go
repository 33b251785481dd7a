package redirects

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// cache maps slugs to what the redirect path answers for them, so a hot
// slug costs no database round trip. It is a small sharded map rather than
// an LRU library: a read takes only a shard's read lock and sets a
// "recently used" bit, so concurrent redirects of one hot slug never queue
// on a list reorder. Eviction is second chance (CLOCK) over Go's randomised
// map order: an entry read since the last sweep survives one more.
//
// Freshness is decided at read time against the current TTL, which the
// service shortens while the change feed is down: one setting then changes
// the lifetime of every entry at once.
//
// Negative answers (no such slug) live in a map of their own per shard,
// bounded to a quarter of the entries and trusted only NegativeTTL: a storm
// of one unknown slug costs one lookup, while a guesser's stream of
// distinct unknown slugs can neither evict the links people tap nor grow
// memory. The change feed invalidates them like any other entry, so a link
// created meanwhile is found at once.
//
// Every invalidation bumps its shard's generation, and a fill carries the
// generation it saw before asking the database. A fill that raced an
// invalidation is dropped, so a link deactivated while its lookup was in
// flight is never cached as active.
type cache struct {
	seed     maphash.Seed
	shards   [cacheShards]cacheShard
	maxLen   int // entries per shard
	maxBytes int // approximate bytes per shard
	maxNeg   int // negative entries per shard
	ttl      atomic.Int64
	negTTL   time.Duration
	// validFrom expires, at once, every entry checked before it (see
	// expireAll).
	validFrom atomic.Int64
	epoch     time.Time // monotonic origin of entry timestamps
}

// cacheShards spreads lock traffic; a power of two so the index is a mask.
const cacheShards = 64

type cacheShard struct {
	mu  sync.RWMutex
	m   map[string]*entry // links: Found and Gone
	neg map[string]*entry // NotFound, bounded by maxNeg
	// hot is the entry last read under the lock: a slug asked for again
	// and again (a viral link) is then found with one atomic load, and
	// concurrent redirects of it stop bouncing the lock's cache line
	// between cores. It is set only under the read lock and cleared under
	// the write lock whenever its entry leaves the map, so it never holds
	// an entry the map no longer has.
	hot   atomic.Pointer[entry]
	bytes int
	gen   atomic.Uint64
	_     [72]byte // keeps neighbouring shards' locks off each other's cache lines
}

// entry is one cached answer. It is immutable once stored, except for its
// recently-used bit; a refresh stores a new entry.
type entry struct {
	Target
	slug    string
	checked int64 // when the database last confirmed it, ns since cache.epoch
	used    atomic.Bool
}

// entryOverhead approximates the bytes an entry costs beyond its strings
// (struct, map slot, Location slice).
const entryOverhead = 160

func (e *entry) size() int { return entryOverhead + len(e.slug) + len(e.destination) }

// NegativeTTL is how long a "no such slug" answer is trusted, at most
// (the shorter TTL of the feed being down applies too).
const NegativeTTL = 5 * time.Second

func newCache(entries, bytes int, ttl time.Duration) *cache {
	c := &cache{
		seed:     maphash.MakeSeed(),
		maxLen:   max(entries/cacheShards, 1),
		maxBytes: max(bytes/cacheShards, 1),
		maxNeg:   max(entries/cacheShards/4, 1),
		negTTL:   NegativeTTL,
		epoch:    time.Now(),
	}
	c.ttl.Store(int64(ttl))
	for i := range c.shards {
		c.shards[i].m = make(map[string]*entry)
		c.shards[i].neg = make(map[string]*entry)
	}
	return c
}

func (c *cache) now() int64 { return int64(time.Since(c.epoch)) }

func (c *cache) shard(slug string) *cacheShard {
	return &c.shards[maphash.String(c.seed, slug)&(cacheShards-1)]
}

// get returns the entry for slug, if any, and whether it is still fresh.
func (c *cache) get(slug string) (e *entry, fresh bool) {
	s := c.shard(slug)
	if e = s.hot.Load(); e == nil || e.slug != slug {
		s.mu.RLock()
		if e = s.m[slug]; e == nil {
			e = s.neg[slug]
		}
		if e != nil && s.hot.Load() != e {
			s.hot.Store(e)
		}
		s.mu.RUnlock()
	}
	if e == nil {
		return nil, false
	}
	if !e.used.Load() { // a load, not a store: a hot entry's line stays shared
		e.used.Store(true)
	}
	ttl := c.ttl.Load()
	if e.Status == NotFound {
		ttl = min(ttl, int64(c.negTTL))
	}
	return e, e.checked >= c.validFrom.Load() && c.now()-e.checked < ttl
}

// generation is read before a lookup and handed back to put.
func (c *cache) generation(slug string) uint64 { return c.shard(slug).gen.Load() }

// put stores e unless slug's shard was invalidated since gen was read, and
// evicts until the shard is back within its bounds.
func (c *cache) put(e *entry, gen uint64) bool {
	s := c.shard(e.slug)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen.Load() != gen {
		return false
	}
	s.remove(e.slug)
	if e.Status == NotFound {
		s.neg[e.slug] = e
		for len(s.neg) > c.maxNeg {
			for slug, old := range s.neg { // Go's random map order: a random victim
				if old != e {
					delete(s.neg, slug)
					s.forget(old)
					break
				}
			}
		}
		return true
	}
	s.m[e.slug] = e
	s.bytes += e.size()
	s.evict(c.maxLen, c.maxBytes, e)
	return true
}

// remove drops slug's entry, positive or negative; s.mu must be held for
// writing.
func (s *cacheShard) remove(slug string) {
	if e := s.m[slug]; e != nil {
		delete(s.m, slug)
		s.bytes -= e.size()
		s.forget(e)
	}
	if e := s.neg[slug]; e != nil {
		delete(s.neg, slug)
		s.forget(e)
	}
}

// evict removes entries not used since the last sweep until the shard fits,
// clearing the bit of those it spares. keep (the entry just stored) is
// never evicted, so a fill always serves at least its own caller.
func (s *cacheShard) evict(maxLen, maxBytes int, keep *entry) {
	for len(s.m) > maxLen || s.bytes > maxBytes {
		if len(s.m) == 1 {
			return // one entry larger than the budget: keep it anyway
		}
		for slug, e := range s.m {
			if len(s.m) <= maxLen && s.bytes <= maxBytes {
				return
			}
			if e == keep {
				continue
			}
			if e.used.Load() {
				e.used.Store(false)
				continue
			}
			delete(s.m, slug)
			s.bytes -= e.size()
			s.forget(e)
		}
	}
}

// forget clears the hot slot if it holds e, which is leaving the map;
// s.mu must be held for writing.
func (s *cacheShard) forget(e *entry) { s.hot.CompareAndSwap(e, nil) }

// invalidate drops slug and fences off fills that started before.
func (c *cache) invalidate(slug string) {
	s := c.shard(slug)
	s.mu.Lock()
	s.remove(slug)
	s.gen.Add(1)
	s.mu.Unlock()
}

// expireAll makes every entry stale, for when invalidations may have been
// missed: each is checked with the database again before it is trusted.
// Entries are kept rather than dropped, so that should the database go
// away again, they can still be served as the last known answer.
func (c *cache) expireAll() {
	c.validFrom.Store(c.now())
	for i := range c.shards {
		c.shards[i].gen.Add(1) // fences off fills that started before
	}
}

// setTTL changes how long every entry, old or new, counts as fresh.
func (c *cache) setTTL(d time.Duration) { c.ttl.Store(int64(d)) }

// len counts entries, for stats.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m) + len(s.neg)
		s.mu.RUnlock()
	}
	return n
}
