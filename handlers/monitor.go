package handlers

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// monitorInterval is how often the gauges are refreshed from the last
// duplicate check and the conflict counter is persisted: a few index
// probes, whatever the number of links.
const monitorInterval = 30 * time.Second

// DefaultDuplicateCheckInterval is how often the full duplicate check runs
// when none is configured.
const DefaultDuplicateCheckInterval = time.Hour

// duplicateCheckBudget bounds one full check run by the monitor.
const duplicateCheckBudget = 10 * time.Minute

// monitor is one of the handlers' background tasks; the click flusher and
// the link change feed belong to redirects.Service, the webhook worker to
// handlers/webhooks. Close (close.go) stops them all. See
// docs/architecture.md. It runs two
// loops: the cheap tick (gauges, counters) and the full duplicate check,
// which reads every link and so runs rarely, on one instance at a time (an
// advisory lock in the store), or when the dashboard asks for it.
type monitor struct {
	stop     chan struct{}
	checkNow chan db.Actor // a request from the dashboard's button, by whom (for the audit trail)
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// startMonitor starts both tasks; the first tick and check run at once.
func (h *Handlers) startMonitor(tick, checkEvery time.Duration) *monitor {
	m := &monitor{stop: make(chan struct{}), checkNow: make(chan db.Actor, 1)}
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		every(m.stop, tick, h.monitorOnce)
	}()
	go func() {
		defer m.wg.Done()
		h.checkLoop(m, checkEvery)
	}()
	return m
}

// every calls fn now and then every d until stop closes.
func every(stop <-chan struct{}, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (h *Handlers) monitorOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Until the first check has finished (checkLoop runs it at start) there
	// is nothing to show; the tick never waits for it.
	if _, err := h.store.LatestDuplicateCheck(ctx); errors.Is(err, db.ErrNotFound) {
		h.log.Debug("no duplicate check finished yet; gauges wait for the first")
	} else if _, err := h.duplicateHealth(ctx); err != nil {
		h.log.Warn("reading the last duplicate check failed; gauges keep their last values", "err", err)
	}
	if err := h.store.FlushCounters(ctx); err != nil {
		h.log.Warn("persisting the conflict counter failed; will retry", "err", err)
	}
}

// checkLoop runs the full duplicate check every checkEvery (skipped when
// another instance ran one lately, so N instances still check once per
// interval) and whenever the dashboard asks.
func (h *Handlers) checkLoop(m *monitor, checkEvery time.Duration) {
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	// A little under the interval, so ticks that drift by a few seconds
	// behind the last check do not skip a whole interval.
	maxAge := checkEvery * 9 / 10
	for {
		h.runDuplicateCheck(m, db.CheckOptions{MaxAge: maxAge}, db.SystemActor)
		select {
		case <-m.stop:
			return
		case <-t.C:
		case by := <-m.checkNow:
			h.runDuplicateCheck(m, db.CheckOptions{Wait: true}, by)
		}
	}
}

func (h *Handlers) runDuplicateCheck(m *monitor, o db.CheckOptions, by db.Actor) {
	ctx, cancel := context.WithTimeout(db.WithActor(context.Background(), by), duplicateCheckBudget)
	defer cancel()
	// Stop a check in progress at shutdown rather than holding Close up.
	go func() {
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	c, err := h.store.RunDuplicateCheck(ctx, o)
	if err != nil {
		h.log.Warn("duplicate check failed; the dashboard shows the previous one", "err", err)
		return
	}
	if c.StartedAt.After(start) {
		h.log.Info("duplicate check finished", "duplicate_groups", c.DuplicateGroups,
			"active_links", c.ActiveLinks, "seconds", c.FinishedAt.Sub(c.StartedAt).Seconds())
		if _, err := h.duplicateHealth(ctx); err != nil { // fresh gauges at once
			h.log.Warn("reading the duplicate check failed", "err", err)
		}
	}
}

// requestCheck asks the monitor for a full check now, on behalf of by; a
// request already pending covers this one.
func (m *monitor) requestCheck(by db.Actor) {
	select {
	case m.checkNow <- by:
	default:
	}
}

// stopMonitor ends the background tasks and persists the last counts. It
// fails only when ctx ends before the tasks do.
func (h *Handlers) stopMonitor(ctx context.Context) error {
	h.monitor.stopOnce.Do(func() { close(h.monitor.stop) })
	done := make(chan struct{})
	go func() { h.monitor.wg.Wait(); close(done) }()
	select {
	case <-done:
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
