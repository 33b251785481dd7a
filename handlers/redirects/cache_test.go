package redirects

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func found(slug string, id int64) *entry {
	return &entry{slug: slug, Target: Target{Status: Found, LinkID: id, destination: "https://example.com/" + slug}}
}

func TestCacheFreshnessFollowsTheCurrentTTL(t *testing.T) {
	c := newCache(100, 1<<20, time.Hour)
	e := found("abc", 1)
	e.checked = c.now()
	c.put(e, c.generation("abc"))
	if got, fresh := c.get("abc"); got != e || !fresh {
		t.Fatalf("got %v fresh %v, want the entry, fresh", got, fresh)
	}
	// The change feed goes down: the same entry, already 0+ ns old, must
	// now expire on the short TTL.
	c.setTTL(time.Nanosecond)
	time.Sleep(time.Millisecond)
	if got, fresh := c.get("abc"); got != e || fresh {
		t.Errorf("after shortening the TTL: got %v fresh %v, want the entry, stale", got, fresh)
	}
	if got, _ := c.get("other"); got != nil {
		t.Errorf("unknown slug: got %v", got)
	}
}

// A lookup that started before an invalidation must not cache its
// (possibly outdated) answer.
func TestCacheFillAfterInvalidationIsDropped(t *testing.T) {
	c := newCache(100, 1<<20, time.Hour)
	gen := c.generation("abc") // lookup starts: the link is active
	c.invalidate("abc")        // meanwhile it is deactivated
	if c.put(found("abc", 1), gen) {
		t.Fatal("a fill that raced an invalidation was stored")
	}
	if e, _ := c.get("abc"); e != nil {
		t.Fatalf("stale answer cached: %v", e)
	}
	gen = c.generation("abc")
	c.expireAll()
	if c.put(found("abc", 1), gen) {
		t.Fatal("a fill that raced expireAll was stored")
	}
	if !c.put(found("abc", 1), c.generation("abc")) {
		t.Fatal("a fill with a current generation was refused")
	}
}

// After a resync every entry must be checked again, but is kept as the
// last known answer.
func TestCacheExpireAllKeepsEntriesAsStale(t *testing.T) {
	c := newCache(100, 1<<20, time.Hour)
	e := found("abc", 1)
	e.checked = c.now()
	c.put(e, c.generation("abc"))
	time.Sleep(time.Millisecond)
	c.expireAll()
	if got, fresh := c.get("abc"); got != e || fresh {
		t.Fatalf("got %v fresh %v, want the entry, stale", got, fresh)
	}
	refilled := found("abc", 1)
	refilled.checked = c.now()
	c.put(refilled, c.generation("abc"))
	if got, fresh := c.get("abc"); got != refilled || !fresh {
		t.Errorf("after a refill: got %v fresh %v, want the new entry, fresh", got, fresh)
	}
}

func TestCacheStaysWithinItsBounds(t *testing.T) {
	c := newCache(cacheShards*4, 1<<30, time.Hour)
	for i := range 10_000 {
		slug := fmt.Sprintf("s%d", i)
		c.put(found(slug, int64(i)), c.generation(slug))
	}
	if n := c.len(); n > cacheShards*4 {
		t.Errorf("%d entries, bound %d", n, cacheShards*4)
	}

	// Bytes: long destinations hit the byte bound before the entry bound.
	c = newCache(1_000_000, cacheShards*10_000, time.Hour)
	long := strings.Repeat("x", 4000)
	for i := range 10_000 {
		slug := fmt.Sprintf("s%d", i)
		e := found(slug, int64(i))
		e.destination = long
		c.put(e, c.generation(slug))
	}
	total := 0
	for i := range c.shards {
		total += c.shards[i].bytes
		if c.shards[i].bytes > c.maxBytes {
			t.Errorf("shard %d holds %d bytes, bound %d", i, c.shards[i].bytes, c.maxBytes)
		}
	}
	if total > cacheShards*10_000 {
		t.Errorf("%d bytes cached, bound %d", total, cacheShards*10_000)
	}
}

// Second chance: an entry read since the last sweep outlives one that
// was not.
func TestCacheEvictsUnusedEntriesFirst(t *testing.T) {
	c := newCache(cacheShards*2, 1<<30, time.Hour)
	// Find three slugs in one shard.
	var slugs []string
	for i := 0; len(slugs) < 3; i++ {
		s := fmt.Sprintf("k%d", i)
		if len(slugs) == 0 || c.shard(s) == c.shard(slugs[0]) {
			slugs = append(slugs, s)
		}
	}
	hot, cold, newcomer := slugs[0], slugs[1], slugs[2]
	c.put(found(hot, 1), c.generation(hot))
	c.put(found(cold, 2), c.generation(cold))
	c.shard(hot).m[hot].used.Store(false)
	c.shard(cold).m[cold].used.Store(false)
	c.get(hot)
	c.put(found(newcomer, 3), c.generation(newcomer))
	if e, _ := c.get(hot); e == nil {
		t.Error("the recently read entry was evicted")
	}
	if e, _ := c.get(cold); e != nil {
		t.Error("the unread entry survived")
	}
	if e, _ := c.get(newcomer); e == nil {
		t.Error("the new entry was evicted")
	}
}

// A slug read again and again is served from its shard's hot slot; an
// invalidation, a refresh or an eviction must still take it away.
func TestCacheHotSlotFollowsChanges(t *testing.T) {
	c := newCache(cacheShards*2, 1<<30, time.Hour)
	e := found("viral", 1)
	e.checked = c.now()
	c.put(e, c.generation("viral"))
	for range 3 {
		if got, _ := c.get("viral"); got != e {
			t.Fatalf("got %v, want the entry", got)
		}
	}
	c.invalidate("viral")
	if got, _ := c.get("viral"); got != nil {
		t.Fatalf("after invalidation: %v, want nothing", got)
	}

	c.put(e, c.generation("viral"))
	c.get("viral")
	refreshed := found("viral", 1)
	refreshed.destination = "https://example.com/new"
	c.put(refreshed, c.generation("viral"))
	if got, _ := c.get("viral"); got != refreshed {
		t.Errorf("after a refresh: %v, want the new entry", got)
	}

	// Fill the shard past its bound with unread entries: the hot one,
	// no longer read, is evicted like any other.
	c.shard("viral").hot.Load().used.Store(false)
	for i := 0; c.shard("viral").m["viral"] != nil && i < 100_000; i++ {
		if s := fmt.Sprintf("f%d", i); c.shard(s) == c.shard("viral") {
			c.put(found(s, int64(i)), c.generation(s))
		}
	}
	if got, _ := c.get("viral"); got != nil && c.shard("viral").m["viral"] == nil {
		t.Error("an evicted entry is still served from the hot slot")
	}
}

// "No such slug" answers live apart: a stream of distinct unknown slugs
// (a guesser) neither evicts cached links nor grows past its own bound,
// and a negative answer is trusted only NegativeTTL, even with a long TTL.
func TestNegativeAnswersAreBoundedApart(t *testing.T) {
	c := newCache(cacheShards*16, 1<<20, time.Hour) // 16 links and 4 negatives per shard
	var links []*entry
	for i := range cacheShards { // about 1 a shard: never 16
		e := found(fmt.Sprintf("real%d", i), int64(i))
		e.checked = c.now()
		c.put(e, c.generation(e.slug))
		links = append(links, e)
	}
	for i := range 10_000 {
		e := &entry{slug: fmt.Sprintf("guess%d", i), Target: Target{Status: NotFound}, checked: c.now()}
		c.put(e, c.generation(e.slug))
	}
	for _, e := range links {
		if got, fresh := c.get(e.slug); got != e || !fresh {
			t.Fatalf("%s evicted by unknown slugs", e.slug)
		}
	}
	if n := c.len() - len(links); n > cacheShards*4 {
		t.Errorf("%d negative entries kept, want at most %d", n, cacheShards*4)
	}
	neg := &entry{slug: "nosuch", Target: Target{Status: NotFound}, checked: c.now() - int64(NegativeTTL)}
	c.put(neg, c.generation("nosuch"))
	if got, fresh := c.get("nosuch"); got != neg || fresh {
		t.Errorf("negative answer older than NegativeTTL: got %v fresh %v, want it stale", got, fresh)
	}
	// Creating the slug invalidates the negative answer at once.
	c.invalidate("nosuch")
	if got, _ := c.get("nosuch"); got != nil {
		t.Errorf("negative answer survived its invalidation")
	}
}
