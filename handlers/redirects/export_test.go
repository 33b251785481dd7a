package redirects

import "time"

// PendingStripes lets the external tests state the memory bound.
const PendingStripes = pendingStripes

// QueuedLookups is how many misses wait in the normal lane for a
// statement, so a test can wait until its flood has queued.
func (s *Service) QueuedLookups() int {
	s.lookups.mu.Lock()
	defer s.lookups.mu.Unlock()
	return len(s.lookups.queue)
}

// TrustCacheFor makes cached answers, found and not found, last d, as
// with a change feed up; a test of how many statements a storm costs then
// does not depend on finishing within FeedDownTTL. Call it right after New.
func (s *Service) TrustCacheFor(d time.Duration) {
	s.cache.setTTL(d)
	s.cache.negTTL = d
}

// SetSlowAfter changes how long a miss of the normal lane waits before it
// opens a further slot; call it right after New.
func (s *Service) SetSlowAfter(d time.Duration) { s.lookups.slowAfter = d }

// RunningLookups is how many statement slots of the normal lane are taken.
func (s *Service) RunningLookups() int {
	s.lookups.mu.Lock()
	defer s.lookups.mu.Unlock()
	return s.lookups.running
}
