package ops

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// monitorInterval is how often the gauges are refreshed from the last
// duplicate check and the conflict counter is persisted: a few index
// probes, whatever the number of links.
const monitorInterval = 30 * time.Second

// duplicateCheckBudget bounds one full check run by the monitor.
const duplicateCheckBudget = 10 * time.Minute

// Monitor is one of the background tasks that handlers.Runtime starts and
// stops (the click flusher and the link change feed belong to
// redirects.Service, the webhook worker to handlers/webhooks; see
// docs/architecture.md). It runs two loops: the cheap tick (gauges,
// counters) and the full duplicate check, which reads every link and so
// runs rarely, on one instance at a time (an advisory lock in the store),
// or when the dashboard asks for it.
type Monitor struct {
	*web.Base
	tick, checkEvery time.Duration
	stop             chan struct{}
	checkNow         chan db.Actor // a request from the dashboard's button
	wg               sync.WaitGroup
	stopOnce         sync.Once
	healing          atomic.Bool // a console heal runs in this process
}

// NewMonitor returns the monitor over base, the full check every
// base.Cfg.DuplicateCheckInterval; it starts nothing.
func NewMonitor(base *web.Base) *Monitor {
	return &Monitor{Base: base, tick: monitorInterval, checkEvery: base.Cfg.DuplicateCheckInterval,
		stop: make(chan struct{}), checkNow: make(chan db.Actor, 1)}
}

// Start starts both tasks; the first tick and check run at once.
func (h *Monitor) Start() {
	h.wg.Add(2)
	go func() {
		defer h.wg.Done()
		every(h.stop, h.tick, h.monitorOnce)
	}()
	go func() {
		defer h.wg.Done()
		h.checkLoop()
	}()
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

func (h *Monitor) monitorOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Until the first check has finished (checkLoop runs it at start) there
	// is nothing to show; the tick never waits for it.
	if _, err := h.Store.LatestDuplicateCheck(ctx); errors.Is(err, db.ErrNotFound) {
		h.Log.Debug("no duplicate check finished yet; gauges wait for the first")
	} else if _, err := h.Health(ctx); err != nil {
		h.Log.Warn("reading the last duplicate check failed; gauges keep their last values", "err", err)
	}
	if err := h.Store.FlushCounters(ctx); err != nil {
		h.Log.Warn("persisting the conflict counter failed; will retry", "err", err)
	}
	if t, err := h.Store.ClickDeadLetterTotals(ctx); err == nil {
		h.Metrics.RecordDeadLetters(t.Letters)
	}
	if eps, err := h.Store.WebhookEndpoints(ctx); err != nil {
		h.Log.Warn("reading the webhook endpoints failed; their gauges keep their last values", "err", err)
	} else {
		h.Metrics.RecordWebhooks(eps, time.Now())
	}
}

// checkLoop runs the full duplicate check every checkEvery (skipped when
// another instance ran one lately, so N instances still check once per
// interval) and whenever the dashboard asks.
func (h *Monitor) checkLoop() {
	checkEvery := h.checkEvery
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	// A little under the interval, so ticks that drift by a few seconds
	// behind the last check do not skip a whole interval.
	maxAge := checkEvery * 9 / 10
	for {
		h.runDuplicateCheck(db.CheckOptions{MaxAge: maxAge}, db.SystemActor)
		select {
		case <-h.stop:
			return
		case <-t.C:
		case by := <-h.checkNow:
			h.runDuplicateCheck(db.CheckOptions{Wait: true}, by)
		}
	}
}

func (h *Monitor) runDuplicateCheck(o db.CheckOptions, by db.Actor) {
	ctx, cancel := context.WithTimeout(db.WithActor(context.Background(), by), duplicateCheckBudget)
	defer cancel()
	// Stop a check in progress at shutdown rather than holding Close up.
	go func() {
		select {
		case <-h.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	c, err := h.Store.RunDuplicateCheck(ctx, o)
	if err != nil {
		h.Log.Warn("duplicate check failed; the dashboard shows the previous one", "err", err)
		return
	}
	if c.StartedAt.After(start) {
		h.Log.Info("duplicate check finished", "duplicate_groups", c.DuplicateGroups,
			"active_links", c.ActiveLinks, "seconds", c.FinishedAt.Sub(c.StartedAt).Seconds())
		if _, err := h.Health(ctx); err != nil { // fresh gauges at once
			h.Log.Warn("reading the duplicate check failed", "err", err)
		}
	}
}

// healBudget bounds a console heal; an interrupted heal is resumed by the
// next one, so the bound only keeps a stuck heal from running forever.
const healBudget = 6 * time.Hour

// StartHeal starts the online heal (db.Store.Heal) in the background for
// the console's "Heal now" on behalf of by (the audit trail's actor)
// and returns at once. db.ErrHealRunning when a
// heal runs already here or, as heal_runs and the heal lock show, anywhere.
// Close interrupts it; the next heal resumes it. When it ends, a full
// check runs so the dashboard's counts agree with it.
func (h *Monitor) StartHeal(by db.Actor) error {
	if run, err := h.Store.LatestHealRun(context.Background()); err == nil && run.Running {
		return db.ErrHealRunning
	} else if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if !h.healing.CompareAndSwap(false, true) {
		return db.ErrHealRunning
	}
	h.Log.Info("heal requested from the dashboard", "by", by.Name, "ip", by.Client)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer h.healing.Store(false)
		ctx, cancel := context.WithTimeout(db.WithActor(context.Background(), by), healBudget)
		defer cancel()
		go func() {
			select {
			case <-h.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		// The store logs the start, the summary and any failure.
		if _, err := h.Store.Heal(ctx, db.HealOptions{Source: "console"}); err == nil {
			h.RequestCheck(by)
		}
	}()
	return nil
}

// RequestCheck asks the monitor for a full check now on behalf of by (the
// audit trail's actor); a request already pending covers this one.
func (m *Monitor) RequestCheck(by db.Actor) {
	select {
	case m.checkNow <- by:
	default:
	}
}

// Close ends the background tasks and persists the last counts. It fails
// only when ctx ends before the tasks do.
func (h *Monitor) Close(ctx context.Context) error {
	h.stopOnce.Do(func() { close(h.stop) })
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := h.Store.FlushCounters(ctx); err != nil {
		// Diagnostics only: losing half a minute of counts is no reason to
		// fail a shutdown.
		h.Log.Warn("persisting the conflict counter at shutdown failed", "err", err)
	}
	return nil
}
