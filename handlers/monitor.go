package handlers

import (
	"context"
	"sync"
	"time"
)

// monitorInterval is how often the duplicate gauges are refreshed and the
// conflict counter is persisted.
const monitorInterval = 30 * time.Second

// monitor is one of the handlers' three background tasks; the other two,
// the click flusher and the link change feed, belong to redirects.Service.
// Close (close.go) stops all three. See docs/architecture.md.
type monitor struct {
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// startMonitor refreshes the duplicate-health gauges and persists the
// get-or-create conflict count now and every interval, so /metrics never
// waits on the database and a scrape never runs the monitoring query.
func (h *Handlers) startMonitor(interval time.Duration) *monitor {
	m := &monitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			h.monitorOnce()
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

func (h *Handlers) monitorOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.duplicateHealth(ctx); err != nil {
		h.log.Warn("duplicate-health check failed; gauges keep their last values", "err", err)
	}
	if err := h.store.FlushCounters(ctx); err != nil {
		h.log.Warn("persisting the conflict counter failed; will retry", "err", err)
	}
}

// stopMonitor ends the background task and persists the last counts. It
// fails only when ctx ends before the task does.
func (h *Handlers) stopMonitor(ctx context.Context) error {
	h.monitor.stopOnce.Do(func() { close(h.monitor.stop) })
	select {
	case <-h.monitor.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := h.store.FlushCounters(ctx); err != nil {
		// Diagnostics only: losing half a minute of counts is no reason to
		// fail a shutdown.
		h.log.Warn("persisting the conflict counter at shutdown failed", "err", err)
	}
	return nil
}
