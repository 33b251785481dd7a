package ops

import (
	"context"
	"sync"
	"time"
)

// readiness answers /readyz from the last database check, refreshed at most
// once per readyMaxAge while the database answers, and on the next request
// after a failure; concurrent requests share one check. A flood of /readyz
// then costs the database at most one ping a second (one at a time while
// it fails), whatever the request rate.
type readiness struct {
	ping func(context.Context) error

	mu       sync.Mutex
	at       time.Time     // when the last check finished
	err      error         // its result
	checking chan struct{} // closed when the check under way ends; nil if none
}

// readyMaxAge is how long a successful check is trusted.
const readyMaxAge = time.Second

// readyTimeout bounds one check.
const readyTimeout = time.Second

// check returns the current verdict, checking the database when the last
// verdict is too old or was a failure. A caller whose ctx ends while it
// waits for someone else's check gets ctx's error.
func (r *readiness) check(ctx context.Context) error {
	r.mu.Lock()
	if r.checking == nil && !r.at.IsZero() && r.err == nil && time.Since(r.at) < readyMaxAge {
		r.mu.Unlock()
		return nil
	}
	done := r.checking
	if done == nil {
		done = make(chan struct{})
		r.checking = done
		go r.refresh(done)
	}
	r.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// refresh pings the database once, detached from any one request so a
// client hanging up cannot fail the check for the others.
func (r *readiness) refresh(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	err := r.ping(ctx)
	cancel()
	r.mu.Lock()
	r.at, r.err, r.checking = time.Now(), err, nil
	r.mu.Unlock()
	close(done)
}
