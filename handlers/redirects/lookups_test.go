package redirects_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/redirects"
)

// heldLookups is the real store whose lookup statements, once answered by
// the database, hold their connection until release is closed (a slow
// database seen from the redirect path), and which records the slugs of
// every statement.
type heldLookups struct {
	*db.Store
	release           chan struct{}
	inFlight, maxSeen atomic.Int64

	mu      sync.Mutex
	batches [][]string
}

func newHeldLookups(t *testing.T) *heldLookups {
	return &heldLookups{Store: newStore(t), release: make(chan struct{})}
}

func (s *heldLookups) RedirectTargets(ctx context.Context, slugs []string) ([]db.RedirectTarget, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxSeen.Load()
		if n <= m || s.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	s.mu.Lock()
	s.batches = append(s.batches, slices.Clone(slugs))
	s.mu.Unlock()
	t, err := s.Store.RedirectTargets(ctx, slugs)
	<-s.release
	return t, err
}

func (s *heldLookups) statements() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batches)
}

// statementSizes is how many slugs each statement asked for, in order.
func (s *heldLookups) statementSizes() []int {
	sizes := []int{}
	for _, b := range s.statements() {
		sizes = append(sizes, len(b))
	}
	return sizes
}

// waitFor polls cond every millisecond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// lookupAsync looks slug up in a goroutine of its own and sends the error
// to errs.
func lookupAsync(s *redirects.Service, slug string, errs chan<- error) {
	go func() { _, err := s.Lookup(context.Background(), slug); errs <- err }()
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Misses that arrive while a lookup is in flight are looked up together in
// the next statement, not one statement each; the first, arriving on an
// idle path, went at once on its own.
func TestMissesArrivingTogetherShareOneStatement(t *testing.T) {
	t.Parallel()
	store := newHeldLookups(t)
	// The first statement is held until the flood has queued, however long
	// a busy machine takes to start 50 goroutines: none may give up.
	s := redirects.New(store, redirects.Options{MaxLookups: 1, LookupWait: time.Minute}, quietLog())
	t.Cleanup(func() { s.Close(context.Background()) })

	first := make(chan error, 1)
	lookupAsync(s, "first0", first)
	waitFor(t, "the first statement", func() bool { return store.inFlight.Load() == 1 })

	const flood = 50
	errs := make(chan error, flood)
	for i := range flood {
		go func() {
			tg, err := s.Lookup(context.Background(), fmt.Sprintf("later%d", i))
			if err == nil && tg.Status != redirects.NotFound {
				err = fmt.Errorf("status %d, want NotFound", tg.Status)
			}
			errs <- err
		}()
	}
	waitFor(t, "the misses to queue", func() bool { return s.QueuedLookups() == flood })
	close(store.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range flood {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if sizes := store.statementSizes(); !slices.Equal(sizes, []int{1, flood}) {
		t.Errorf("statements of sizes %v, want [1 %d]", sizes, flood)
	}
	if st := s.Stats(); st.LookupStatements != 2 {
		t.Errorf("LookupStatements %d, want 2", st.LookupStatements)
	}
}

// With two slots, misses queued behind a running statement do not each
// start one of their own: they wait for it, and only once it has kept them
// waiting (the database is slow) does the second slot open, taking all of
// them in one statement. Once the statements end, no slot is taken.
func TestSecondSlotOpensForASlowStatementOnly(t *testing.T) {
	t.Parallel()
	store := newHeldLookups(t)
	s := redirects.New(store, redirects.Options{MaxLookups: 2, LookupWait: time.Minute}, quietLog())
	t.Cleanup(func() { s.Close(context.Background()) })
	// Long enough for the flood to queue on a loaded machine before the
	// second slot may open (5 ms in production).
	s.SetSlowAfter(2 * time.Second)

	first := make(chan error, 1)
	lookupAsync(s, "first0", first)
	waitFor(t, "the first statement", func() bool { return store.inFlight.Load() == 1 })

	const flood = 30
	errs := make(chan error, flood)
	for i := range flood {
		lookupAsync(s, fmt.Sprintf("later%d", i), errs)
	}
	waitFor(t, "the misses to queue", func() bool { return s.QueuedLookups() == flood })
	if n := store.inFlight.Load(); n != 1 {
		t.Errorf("%d statements running once the misses queued, want still 1: a miss arriving opened a slot", n)
	}
	// The first statement is still held: the waiting misses open the second
	// slot, and it takes them all.
	waitFor(t, "the second statement", func() bool { return store.inFlight.Load() == 2 })
	close(store.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range flood {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if sizes := store.statementSizes(); !slices.Equal(sizes, []int{1, flood}) {
		t.Errorf("statements of sizes %v, want [1 %d]", sizes, flood)
	}
	waitFor(t, "every slot freed", func() bool { return s.RunningLookups() == 0 })
}

// slugHolds is the real store whose statements wait while they hold a slug
// with a prefix of holds, until that prefix's channel is closed.
type slugHolds struct {
	*db.Store
	holds    map[string]chan struct{}
	inFlight atomic.Int64
}

func (s *slugHolds) RedirectTargets(ctx context.Context, slugs []string) ([]db.RedirectTarget, error) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	t, err := s.Store.RedirectTargets(ctx, slugs)
	for prefix, ch := range s.holds {
		if slices.ContainsFunc(slugs, func(slug string) bool { return strings.HasPrefix(slug, prefix) }) {
			<-ch
		}
	}
	return t, err
}

// A slot opened for a stuck statement that leaves misses queued when it
// closes again hands them on: they are looked up once they have waited
// the slow wait, not left to give up behind the statement still stuck.
func TestMissesQueuedBehindAStuckStatementAreLookedUp(t *testing.T) {
	t.Parallel()
	stuck, second := make(chan struct{}), make(chan struct{})
	store := &slugHolds{Store: newStore(t), holds: map[string]chan struct{}{"stuck": stuck, "second": second}}
	s := redirects.New(store, redirects.Options{MaxLookups: 2, LookupWait: time.Minute}, quietLog())
	t.Cleanup(func() { s.Close(context.Background()) })
	t.Cleanup(func() { close(stuck) })
	s.SetSlowAfter(3 * time.Second) // well above what a loaded machine takes between the steps below

	lookup := func(slug string) chan error {
		errc := make(chan error, 1)
		lookupAsync(s, slug, errc)
		return errc
	}
	lookup("stuck0")
	waitFor(t, "the stuck statement", func() bool { return store.inFlight.Load() == 1 })
	secondDone := lookup("second0") // waits the slow wait, then takes the second slot
	waitFor(t, "the second slot's statement", func() bool { return store.inFlight.Load() == 2 })
	later := lookup("later0") // both slots taken: it queues
	waitFor(t, "the miss to queue", func() bool { return s.QueuedLookups() == 1 })
	released := time.Now()
	close(second) // the second slot ends its statement and, the queue short and fresh, closes
	if err := <-secondDone; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-later:
		if err != nil {
			t.Errorf("the miss queued behind the stuck statement: %v", err)
		}
		// Answered only once it had waited the slow wait: the second slot
		// closed rather than keep going for a fresh miss.
		if waited := time.Since(released); waited < 300*time.Millisecond {
			t.Errorf("the miss was looked up %v after the second statement ended: the slot stayed open", waited)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the miss queued behind the stuck statement was not looked up within 10 s")
	}
}

// A quarter of a batch queued behind a running statement opens the second
// slot at once, slow wait or not.
func TestAQueueOfABatchOpensTheSecondSlot(t *testing.T) {
	t.Parallel()
	store := newHeldLookups(t)
	s := redirects.New(store, redirects.Options{MaxLookups: 2, LookupWait: time.Minute}, quietLog())
	t.Cleanup(func() { s.Close(context.Background()) })
	s.SetSlowAfter(time.Minute)

	errs := make(chan error, 101)
	lookupAsync(s, "first0", errs)
	waitFor(t, "the first statement", func() bool { return store.inFlight.Load() == 1 })
	for i := range 100 {
		lookupAsync(s, fmt.Sprintf("later%d", i), errs)
	}
	waitFor(t, "the second statement", func() bool { return store.inFlight.Load() == 2 })
	close(store.release)
	for range 101 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(store.statements()); n > 4 {
		t.Errorf("%d statements for 101 misses, want a few", n)
	}
}

// At most MaxLookups statements run at once, so a flood of unknown slugs
// cannot take the pool; a miss whose statement has not started within
// DefaultLookupWait fails fast with ErrBusy and never reaches the database.
func TestConcurrentMissesAreBounded(t *testing.T) {
	t.Parallel()
	store := newHeldLookups(t)
	s := redirects.New(store, redirects.Options{MaxLookups: 4}, quietLog())
	t.Cleanup(func() { s.Close(context.Background()) })

	// Four misses, one after another, each take a free slot of its own.
	held := make(chan error, 4)
	for i := range 4 {
		lookupAsync(s, fmt.Sprintf("held%d", i), held)
		waitFor(t, "a statement per slot", func() bool { return store.inFlight.Load() == int64(i+1) })
	}
	const flood = 20
	errs := make(chan error, flood)
	for i := range flood {
		lookupAsync(s, fmt.Sprintf("guess%d", i), errs)
	}
	for range flood {
		if err := <-errs; !errors.Is(err, redirects.ErrBusy) {
			t.Fatalf("lookup while every slot is held: %v, want ErrBusy", err)
		}
	}
	close(store.release)
	for range 4 {
		if err := <-held; err != nil {
			t.Errorf("held lookup: %v, want an answer (not found)", err)
		}
	}
	if got := store.maxSeen.Load(); got != 4 {
		t.Errorf("statements in flight at once: %d, want 4 (MaxLookups)", got)
	}
	if n := len(store.statements()); n != 4 {
		t.Errorf("%d statements reached the database, want 4: the misses that gave up must not", n)
	}
	if st := s.Stats(); st.Busy != flood {
		t.Errorf("Busy %d, want %d", st.Busy, flood)
	}
}

// A storm of one unknown slug costs one lookup: concurrent misses share
// it, and later ones find the cached negative answer.
func TestStormOfOneUnknownSlugCostsOneLookup(t *testing.T) {
	t.Parallel()
	store := newHeldLookups(t)
	close(store.release)
	s := redirects.New(store, redirects.Options{LookupWait: time.Minute}, quietLog())
	t.Cleanup(func() { s.Close(context.Background()) })
	// No change feed here: answers would be trusted for FeedDownTTL only,
	// and 300 lookups on a loaded machine may outlast it.
	s.TrustCacheFor(time.Minute)
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for range 200 {
		wg.Go(func() {
			if tg, err := s.Lookup(context.Background(), "nosuch"); err != nil || tg.Status != redirects.NotFound {
				wrong.Add(1)
			}
		})
	}
	wg.Wait()
	for range 100 {
		if tg, err := s.Lookup(context.Background(), "nosuch"); err != nil || tg.Status != redirects.NotFound {
			wrong.Add(1)
		}
	}
	if wrong.Load() != 0 {
		t.Errorf("%d of 300 lookups were not answered NotFound", wrong.Load())
	}
	if n := len(store.statements()); n != 1 {
		t.Errorf("%d statements for one unknown slug asked 300 times, want 1", n)
	}
}

// guessHeld is the real store whose statements holding a "guess" slug wait
// for release: the over-limit lane stuck on a guesser's misses.
type guessHeld struct {
	*db.Store
	release    chan struct{}
	statements atomic.Int64
	held       atomic.Int64
}

func (s *guessHeld) RedirectTargets(ctx context.Context, slugs []string) ([]db.RedirectTarget, error) {
	s.statements.Add(1)
	t, err := s.Store.RedirectTargets(ctx, slugs)
	if strings.HasPrefix(slugs[0], "guess") {
		s.held.Add(1)
		defer s.held.Add(-1)
		<-s.release
	}
	return t, err
}

// The over-limit lane has a budget of its own: while a guesser's lookups
// fill it (one statement in flight, the rest queued behind it), real slugs
// asked for by anyone else are looked up at once, never refused; the
// guesser's misses go many to a statement; and past the lane's queue they
// are refused, not queued without bound.
func TestOverLimitLaneNeverDelaysOthers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &guessHeld{Store: newStore(t), release: make(chan struct{})}
	s := redirects.New(store, redirects.Options{}, quietLog())
	t.Cleanup(func() { s.Close(context.Background()) })
	real, _, err := store.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://lane.example.com/", LinkType: "campaign"})
	if err != nil {
		t.Fatal(err)
	}

	const guesses = 2600 // the held statement's one, a full queue (2000), and more
	var busy, answered atomic.Int64
	var wg sync.WaitGroup
	first := make(chan error, 1)
	go func() { _, err := s.LookupOverLimit(ctx, "guess0"); first <- err }()
	waitFor(t, "the over-limit lane's statement", func() bool { return store.held.Load() == 1 })
	for i := 1; i < guesses; i++ {
		wg.Go(func() {
			_, err := s.LookupOverLimit(ctx, fmt.Sprintf("guess%d", i))
			switch {
			case errors.Is(err, redirects.ErrBusy):
				busy.Add(1)
			case err == nil:
				answered.Add(1)
			}
		})
	}
	waitFor(t, "the lane to refuse past its queue", func() bool { return busy.Load() >= guesses-1-2000 })

	tg, err := s.Lookup(ctx, real.Slug)
	if err != nil || tg.Status != redirects.Found {
		t.Fatalf("real slug while the over-limit lane is full: %+v, %v; want Found", tg, err)
	}
	tg, err = s.LookupOverLimit(ctx, real.Slug) // now cached: no lane needed
	if err != nil || tg.Status != redirects.Found {
		t.Errorf("cached real slug for a client over the limit: %+v, %v; want Found", tg, err)
	}

	close(store.release)
	if err := <-first; err != nil {
		t.Errorf("the held lookup: %v, want an answer", err)
	}
	wg.Wait()
	if got := 1 + busy.Load() + answered.Load(); got != guesses {
		t.Errorf("%d of %d guesses answered or refused", got, guesses)
	}
	// 1 held + 2000 queued in statements of at most 500 + the real slug's.
	if n := store.statements.Load(); n > 1+4+1 {
		t.Errorf("%d statements for %d lookups, want at most 6", n, answered.Load())
	}
	if st := s.Stats(); st.Busy != busy.Load() {
		t.Errorf("Busy %d, want %d", st.Busy, busy.Load())
	}
}
