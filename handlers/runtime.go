package handlers

import (
	"context"
	"errors"
	"log/slog"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/ops"
	"github.com/shortlinks/shortlinks/handlers/redirects"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/handlers/webhooks"
)

// Runtime is one instance's background work and what the HTTP layer shares
// with it: built and started by Start, handed to New, stopped by Stop after
// the HTTP server has shut down. cmd/shortlinks (serve, dev) and the tests'
// testApp both run an instance this way, so they start the same things.
type Runtime struct {
	// Base is what every surface shares (config with defaults, sessions,
	// limits, the metrics registry); Base.Redirects is Redirects.
	Base *web.Base
	// Redirects is the redirect cache and click counter; its click flusher
	// and LISTEN change feed run from Start to Stop.
	Redirects *redirects.Service
	// Monitor refreshes the duplicate gauges and runs the duplicate check.
	Monitor *ops.Monitor
	// Webhooks delivers the outbox; nil without WEBHOOK_URLS.
	Webhooks *webhooks.Worker
}

// Start builds the shared base over store and starts the background tasks,
// in this order: the redirect service (click flusher, change feed), the
// duplicate monitor, the webhook worker (only when cfg.Webhooks.URLs is
// set; the caller has written them with Store.SyncWebhookEndpoints).
func Start(store *db.Store, cfg Config, log *slog.Logger) *Runtime {
	base := web.NewBase(store, cfg, log)
	rt := &Runtime{Base: base}

	// The redirect service re-validates destinations with the same policy
	// that admitted them.
	opts := base.Cfg.Redirects
	if opts.CheckDestination == nil {
		policy := base.Cfg.URLPolicy
		opts.CheckDestination = func(u string) error { _, err := policy.Normalize(u); return err }
	}
	rt.Redirects = redirects.New(store, opts, base.Log) // starts the flusher and the feed
	base.Redirects = rt.Redirects

	rt.Monitor = ops.NewMonitor(base)
	rt.Monitor.Start()

	if len(base.Cfg.Webhooks.URLs) > 0 {
		rt.Webhooks = webhooks.Start(store, base.Cfg.Webhooks, log.With("component", "webhooks"))
	}
	return rt
}

// Stop stops the background tasks once the HTTP server has stopped taking
// requests (call it after http.Server.Shutdown, so no request adds a click
// after the final flush). Clicks first: they are what the database must not
// lose, and their webhooks are queued with them (rows the worker sends
// later, here or on another instance). It writes every click still counted
// in memory, retrying until ctx ends; then the monitor persists the
// conflict count; then the webhook worker stops leasing and waits for the
// requests in flight.
func (rt *Runtime) Stop(ctx context.Context) error {
	err := errors.Join(rt.Redirects.Close(ctx), rt.Monitor.Close(ctx))
	if rt.Webhooks != nil {
		err = errors.Join(err, rt.Webhooks.Close(ctx))
	}
	return err
}
