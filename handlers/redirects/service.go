// Package redirects is the in-memory machinery behind GET /{slug}: a lookup
// cache kept honest by PostgreSQL's LISTEN/NOTIFY, and a click counter that
// writes in idempotent batches. It knows nothing of HTTP; handlers/redirect.go
// turns its answers into responses.
//
// Each idea has one file: cache.go (slug → answer), batch.go (cache misses
// looked up together), clicks.go (counting and flushing), suspect.go (taps
// by clients over the unknown-slug limit, counted apart), previews.go (who
// is a link-preview robot), and this file, which ties them to the database
// and to the change feed.
package redirects

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/shortlinks/shortlinks/db"
)

// Store is the part of db.Store the service uses.
type Store interface {
	RedirectTargets(ctx context.Context, slugs []string) ([]db.RedirectTarget, error)
	SuspectStore
	FlushClicks(ctx context.Context, b db.ClickBatch) (applied bool, err error)
	AbandonClickBatch(ctx context.Context, id string) (applied bool, err error)
	DeadLetterClicks(ctx context.Context, failedID string, b db.ClickBatch, reason string, attempts int) (applied bool, err error)
	PruneClickFlushes(ctx context.Context, cutoff time.Time) (int64, error)
}

// Options tunes the service; zero values pick the defaults.
type Options struct {
	// ListenURL is the PostgreSQL URL the change feed listens on. Empty
	// means no feed: cached answers then live only FeedDownTTL, which keeps
	// the one-second bound on deactivation at the cost of more lookups.
	ListenURL string
	// CacheSize bounds cached slugs (default 100 000); CacheBytes bounds
	// their approximate memory (default 32 MiB), since destinations can be
	// long.
	CacheSize  int
	CacheBytes int
	// CacheTTL is how long an answer is trusted while the change feed is up
	// (default 30 s); it is the safety net should a notification be lost.
	CacheTTL time.Duration
	// FlushInterval is how often counted clicks are written (default 1 s).
	FlushInterval time.Duration
	// FlushTimeout bounds one flush transaction from this side (default
	// 10 s), so a hung connection cannot stall counting; set it above
	// the statements' own timeout (FLUSH_STATEMENT_TIMEOUT).
	FlushTimeout time.Duration
	// MaxPending bounds the distinct (link, day) rows waiting in memory
	// (default 100 000, about 10 MB); see clicks.add.
	MaxPending int
	// CheckDestination re-validates a destination before it is cached; a
	// link whose destination fails is answered as not found.
	CheckDestination func(url string) error
	// MaxLookups bounds the lookup statements of uncached slugs in flight
	// (default 2), well below the connection pool (40, db.Open), so a flood
	// of unknown slugs cannot take every connection from the flusher, the
	// API and the admin pages. Misses arriving while a statement runs share
	// the next one (batch.go, up to MaxLookupBatch slugs; a further slot
	// opens only when a miss has waited 5 ms or 64 are queued); a
	// miss whose statement has not started within the lookup wait fails with
	// ErrBusy (the handler answers 503 with Retry-After: 1).
	MaxLookups int
	// LookupWait overrides DefaultLookupWait (tests that hold a statement
	// open on purpose).
	LookupWait time.Duration
}

// ErrBusy means every lookup slot stayed taken for the lookup wait.
var ErrBusy = errors.New("redirects: too many lookups in flight")

// Defaults for Options.
const (
	DefaultCacheSize     = 100_000
	DefaultCacheBytes    = 32 << 20
	DefaultCacheTTL      = 30 * time.Second
	DefaultFlushInterval = time.Second
	DefaultFlushTimeout  = 10 * time.Second
	DefaultMaxPending    = 100_000
	// DefaultMaxLookups is 2: fewer slots make bigger batches, and a
	// statement's cost is mostly per statement, not per slug. Cold
	// redirects, one run of each (docs/benchmarks.md, fifth session; the
	// counting server's flush then wrote nothing for the bulk-loaded links,
	// ninth session, so these compare lookups): 8 slots 18.7k/s, 4 25.3k/s,
	// 2 30.0k/s, 1 31.3k/s. The
	// second opens only once a miss has waited 5 ms or a quarter of a batch
	// (64) is queued (batch.go), so batches stay as big as with one.
	DefaultMaxLookups = 2
	// MaxLookupBatch bounds the slugs of one lookup statement.
	MaxLookupBatch = 256
	// FeedDownTTL is how long answers are trusted without the change feed:
	// the one-second promise for deactivations.
	FeedDownTTL = time.Second
)

// Lookup timing.
const (
	// lookupTimeout bounds one database lookup of a slug.
	lookupTimeout = 2 * time.Second
	// staleWait is how long a request holding an expired answer waits for
	// the database before being served that answer anyway.
	staleWait = 100 * time.Millisecond
	// DefaultLookupWait is how long a miss waits for its statement to
	// start: long enough to ride out a burst (a statement takes about a
	// millisecond), short enough that a flood is refused rather than
	// queued.
	DefaultLookupWait = 250 * time.Millisecond
)

// Status is what a slug resolves to.
type Status uint8

// The answers a slug can have.
const (
	Found    Status = iota // an active link with a valid destination
	NotFound               // no such link, or its destination is no longer acceptable
	Gone                   // the link was deactivated
)

// Target is the answer for a slug. It is shared by every request for the
// slug and must not be modified.
type Target struct {
	Status Status
	LinkID int64 // the link that counts the redirect
	// TappedID is the link whose slug was requested: LinkID, or a link
	// superseded by LinkID that forwards to it.
	TappedID    int64
	destination string
	location    []string // destination as a header value, built once
}

// Destination is where a Found target redirects to.
func (t *Target) Destination() string { return t.destination }

// LocationHeader is Destination as an http.Header value, built once per
// cached link so a redirect sets Location without allocating. It is
// shared by every response: assign it, never modify it.
func (t *Target) LocationHeader() []string { return t.location }

// Service resolves slugs and counts clicks; build it with New, stop it with
// Close.
type Service struct {
	store   Store
	opts    Options
	log     *slog.Logger
	cache   *cache
	clicks  *clicks
	flights singleflight.Group
	lookups *lane // the misses of everyone under the unknown-slug limit
	// overLimit is the lane of clients over the unknown-slug limit, with
	// its own budget (overlimit.go), and overFlights its singleflight, so
	// a guesser never waits in, nor takes from, anyone else's lookups.
	overLimit   *lane
	overFlights singleflight.Group
	suspects    *suspects
	feed        *db.LinkChanges
	agents      *agentVerdicts

	stopFlusher  chan struct{}      // closed by Close
	abortFlusher context.CancelFunc // when Close runs out of time
	flusherDone  chan struct{}
	closeOnce    sync.Once

	feedUp                              atomic.Bool
	hits                                stripedCounter // stats.go: added to on every cached redirect
	misses, stale, notFound, gone, busy atomic.Int64
	statements                          atomic.Int64 // lookup statements run
}

// New starts a Service: its flusher, and its change feed when
// opts.ListenURL is set.
func New(store Store, opts Options, log *slog.Logger) *Service {
	opts = withDefaults(opts)
	s := &Service{
		store:       store,
		opts:        opts,
		log:         log,
		cache:       newCache(opts.CacheSize, opts.CacheBytes, min(opts.CacheTTL, FeedDownTTL)),
		clicks:      newClicks(store, opts.MaxPending, opts.FlushTimeout, log),
		agents:      newAgentVerdicts(),
		suspects:    newSuspects(store, opts.MaxPending, log),
		stopFlusher: make(chan struct{}),
		flusherDone: make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.abortFlusher = cancel
	s.lookups = &lane{lookup: s.lookupBatch, maxInFlight: opts.MaxLookups, maxBatch: MaxLookupBatch,
		maxQueue: opts.MaxLookups * MaxLookupBatch * 4, maxWait: opts.LookupWait}
	s.overLimit = newOverLimitLane(s.lookupBatch)
	go func() {
		defer close(s.flusherDone)
		var wg sync.WaitGroup
		wg.Go(func() { s.clicks.run(ctx, s.stopFlusher, opts.FlushInterval) })
		wg.Go(func() { s.suspects.run(ctx, s.stopFlusher, opts.FlushInterval) })
		wg.Wait()
	}()
	if opts.ListenURL != "" {
		s.feed = db.ListenLinkChanges(opts.ListenURL, feedHandler{s}, log)
	}
	return s
}

func withDefaults(o Options) Options {
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.LookupWait <= 0 {
		o.LookupWait = DefaultLookupWait
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = DefaultFlushTimeout
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.MaxLookups <= 0 {
		o.MaxLookups = DefaultMaxLookups
	}
	if o.CheckDestination == nil {
		o.CheckDestination = func(string) error { return nil }
	}
	return o
}

// Lookup resolves slug, from the cache when it holds a fresh answer. An
// error means the database could not answer and nothing usable was cached.
//
// Concurrent misses of one slug share one database lookup, and misses
// arriving together share one statement (batch.go; ErrBusy when none
// could start within the lookup wait). A request that holds an expired answer
// waits for it only briefly and, if the database is slow or unreachable, is
// served the expired answer: redirects keep working through an outage. A
// deactivation needs the database too, so one can be missed this way only
// when this instance alone cannot reach it (a partition); keeping taps
// working is the chosen side of that trade-off.
func (s *Service) Lookup(ctx context.Context, slug string) (*Target, error) {
	return s.resolve(ctx, slug, s.lookups, &s.flights)
}

// LookupOverLimit is Lookup for a client over the unknown-slug limit: the
// cache answers as usual (a cached "no such slug" included, with no
// lookup), and an uncached slug is looked up in the over-limit lane, whose
// statements are few and bounded (overlimit.go) and never delay anyone
// else's. A real slug is so found and redirected whatever the client's
// other requests; what they cost the database stays bounded.
func (s *Service) LookupOverLimit(ctx context.Context, slug string) (*Target, error) {
	return s.resolve(ctx, slug, s.overLimit, &s.overFlights)
}

func (s *Service) resolve(ctx context.Context, slug string, l *lane, flights *singleflight.Group) (*Target, error) {
	e, fresh := s.cache.get(slug)
	if fresh {
		s.hits.add()
		return s.answer(&e.Target), nil
	}
	s.misses.Add(1)
	if e == nil {
		// Nothing to fall back on: wait for the database in this goroutine
		// (DoChan would start one per miss). The wait is bounded by
		// the lookup wait and lookupTimeout, so a client that hangs up waits
		// for nothing long.
		v, err, _ := flights.Do(slug, func() (any, error) { return s.load(l, slug, nil) })
		if err != nil {
			return nil, err
		}
		return s.answer(&v.(*entry).Target), nil
	}
	ch := flights.DoChan(slug, func() (any, error) { return s.load(l, slug, e) })
	t := time.NewTimer(staleWait)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.Err == nil {
			return s.answer(&r.Val.(*entry).Target), nil
		}
		if errors.Is(r.Err, db.ErrUnavailable) || errors.Is(r.Err, ErrBusy) {
			return s.served(e), nil
		}
		return nil, r.Err
	case <-t.C:
		return s.served(e), nil
	case <-ctx.Done():
		return s.served(e), nil
	}
}

// served counts an expired answer handed out.
func (s *Service) served(e *entry) *Target {
	s.stale.Add(1)
	return s.answer(&e.Target)
}

// answer counts the outcomes that are not redirects.
func (s *Service) answer(t *Target) *Target {
	switch t.Status {
	case NotFound:
		s.notFound.Add(1)
	case Gone:
		s.gone.Add(1)
	}
	return t
}

// load asks the database about slug, in l's next statement, and caches
// the answer (lookupBatch).
func (s *Service) load(l *lane, slug string, expired *entry) (*entry, error) {
	// A flight for slug that ended between the caller's cache miss and
	// this flight's start has cached its answer: no second statement.
	if e, fresh := s.cache.get(slug); fresh {
		return e, nil
	}
	e, err := l.do(slug, expired)
	if errors.Is(err, ErrBusy) {
		s.busy.Add(1) // callers holding the expired answer serve it
	}
	return e, err
}

// lookupBatch runs one lookup statement for a lane and caches every answer.
// Each slug's cache generation is read first, so an invalidation that lands
// while the statement runs makes put discard that (possibly outdated)
// answer.
func (s *Service) lookupBatch(batch []*lookup) {
	slugs := make([]string, len(batch))
	gens := make([]uint64, len(batch))
	for i, lk := range batch {
		slugs[i], gens[i] = lk.slug, s.cache.generation(lk.slug)
	}
	s.statements.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	links, err := s.store.RedirectTargets(ctx, slugs)
	byslug := make(map[string]db.RedirectTarget, len(links))
	for _, link := range links {
		byslug[link.Slug] = link
	}
	now := s.cache.now()
	for i, lk := range batch {
		var e *entry
		link, ok := byslug[lk.slug]
		switch {
		case err == nil && ok:
			e = s.newEntry(lk.slug, link)
		case err == nil:
			e = &entry{slug: lk.slug, Target: Target{Status: NotFound}}
		case lk.expired != nil && errors.Is(err, db.ErrUnavailable):
			// Keep the last answer and ask again one TTL later, rather than
			// on every request while the database is away.
			e = &entry{slug: lk.slug, Target: lk.expired.Target}
		default:
			lk.err = err
			continue
		}
		e.checked = now
		s.cache.put(e, gens[i])
		lk.result, lk.err = e, err // callers holding the expired answer serve it on err
	}
}

// newEntry turns a link into a cached answer, re-validating the
// destination once here rather than on every redirect: neither the stored
// URL (any change invalidates the entry) nor the policy changes meanwhile.
func (s *Service) newEntry(slug string, link db.RedirectTarget) *entry {
	e := &entry{slug: slug, Target: Target{LinkID: link.ID, TappedID: link.TappedID, destination: link.DestinationURL,
		location: []string{asciiLocation(link.DestinationURL)}}}
	if !link.IsActive {
		e.Status = Gone
	} else if err := s.opts.CheckDestination(link.DestinationURL); err != nil {
		s.log.Warn("refusing to redirect to an invalid destination", "slug", slug, "err", err)
		e.Status = NotFound
	}
	return e
}

// Count records one redirect to t: a click, or a preview when the request
// came from a preview robot, announced itself as a prefetch or was a HEAD.
// A superseded slug's redirects are counted on the link it was merged into.
func (s *Service) Count(t *Target, preview bool) { s.clicks.add(t.LinkID, t.TappedID, preview) }

// CountSuspect records a redirect to t requested by a client over the
// unknown-slug limit: not a click, but a suspect tap on the link that
// would have counted it (suspect.go).
func (s *Service) CountSuspect(t *Target) { s.suspects.add(t.LinkID) }

// FromPreviewer is IsPreviewer with the verdicts for recent agents
// remembered.
func (s *Service) FromPreviewer(userAgent string) bool { return s.agents.isPreviewer(userAgent) }

// Invalidate forgets slug at once; for changes made by this process, which
// should not wait for their own notification.
func (s *Service) Invalidate(slug string) { s.cache.invalidate(slug) }

// Close stops the change feed and the flusher, then writes every counted
// click, retrying until ctx ends. Call it after the HTTP server has stopped
// taking requests; clicks counted after Close are not written. Later calls
// do nothing.
func (s *Service) Close(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		if s.feed != nil {
			s.feed.Close()
		}
		// A flush under way is let finish. Only if ctx ends first is it
		// aborted, possibly mid-commit; drain then resends that batch with
		// the same ID, which the database applies at most once.
		close(s.stopFlusher)
		select {
		case <-s.flusherDone:
		case <-ctx.Done():
			s.abortFlusher()
			<-s.flusherDone
		}
		s.abortFlusher()
		err = errors.Join(s.clicks.drain(ctx), s.suspects.drain(ctx))
		st := s.Stats()
		s.log.Info("redirects closed", "clicks", st.Clicks, "previews", st.Previews,
			"clicks_flushed", st.ClicksFlushed, "previews_flushed", st.PreviewsFlushed,
			"dropped_clicks", st.DroppedClicks, "dropped_previews", st.DroppedPreviews,
			"flush_failures", st.FlushFailures, "suspect_taps", st.SuspectTaps,
			"suspect_taps_flushed", st.SuspectTapsFlushed)
	})
	return err
}

// feedHandler receives the change feed on the service's behalf, keeping
// those methods out of the Service's public API.
type feedHandler struct{ s *Service }

func (f feedHandler) Changed(slug string) { f.s.cache.invalidate(slug) }

func (f feedHandler) Resync() { f.s.cache.expireAll() }

func (f feedHandler) Connected(up bool) {
	f.s.feedUp.Store(up)
	if up {
		f.s.cache.setTTL(f.s.opts.CacheTTL)
	} else {
		f.s.cache.setTTL(min(f.s.opts.CacheTTL, FeedDownTTL))
	}
}

// asciiLocation percent-encodes the non-ASCII bytes of a destination (as
// net/http's Redirect does), so the Location header is plain ASCII that
// every client reads the same way; existing escapes are left as they are.
func asciiLocation(u string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		if c := u[i]; c >= 0x80 {
			if b.Len() == 0 {
				b.Grow(len(u) + 16)
				b.WriteString(u[:i])
			}
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else if b.Len() > 0 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return u
	}
	return b.String()
}
