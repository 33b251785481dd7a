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
