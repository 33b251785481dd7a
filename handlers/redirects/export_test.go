package redirects

// PendingStripes lets the external tests state the memory bound.
const PendingStripes = pendingStripes

// QueuedLookups is how many misses wait in the normal lane for a
// statement, so a test can wait until its flood has queued.
func (s *Service) QueuedLookups() int {
	s.lookups.mu.Lock()
	defer s.lookups.mu.Unlock()
	return len(s.lookups.queue)
}
