package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/migrations"
)

// shutdownGrace bounds how long in-flight requests may take after SIGTERM.
const shutdownGrace = 15 * time.Second

func serve(ctx context.Context, cfg *config) error {
	log := cfg.logger()
	if cfg.MigrateOnStart {
		if err := migrateUp(ctx, cfg, log); err != nil {
			return err
		}
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	return runServer(ctx, cfg, store, log, nil)
}

// errNoDatabase explains what to do when no database is configured.
var errNoDatabase = errors.New("DATABASE_URL is not set (or run 'make run', which starts a local PostgreSQL and writes its URL to .data/credentials for the other commands)")

// openStore connects to DATABASE_URL with the serving timeouts.
func openStore(ctx context.Context, cfg *config) (*db.Store, error) {
	if cfg.DatabaseURL == "" {
		return nil, errNoDatabase
	}
	url, err := db.WithTimeouts(cfg.DatabaseURL, 5*time.Second, cfg.StatementTimeout)
	if err != nil {
		return nil, err
	}
	conn, err := db.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return db.New(conn, cfg.storeOptions()), nil
}

// openMigrator connects without a statement timeout: building an index
// on a large table may take longer than any request should.
func openMigrator(ctx context.Context, cfg *config, log *slog.Logger) (*migrations.Migrator, func(), error) {
	if cfg.DatabaseURL == "" {
		return nil, nil, errNoDatabase
	}
	conn, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	m, err := migrations.New(conn.DB, log)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return m, func() { conn.Close() }, nil
}

func migrateUp(ctx context.Context, cfg *config, log *slog.Logger) error {
	m, done, err := openMigrator(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer done()
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// runServer is the composition root: it starts the instance's background
// work, serves until ctx ends, then shuts down in one visible order:
//
//  1. the HTTP server stops accepting connections and lets in-flight
//     requests finish (so no request adds a click after the final flush);
//  2. the runtime stops (handlers.Runtime.Stop): every click counted in
//     memory is written, then the duplicate monitor persists its counter,
//     then the webhook worker stops (click webhooks are rows by then, sent
//     later here or by another instance).
//
// ready, when not nil, is called with the bound address once the server
// accepts connections.
func runServer(ctx context.Context, cfg *config, store *db.Store, log *slog.Logger, ready func(addr string)) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// Before serving: from here on, every change emits webhooks to exactly
	// the configured endpoints (none when WEBHOOK_URLS is empty) and to those
	// added in the console or the API.
	if err := store.SyncWebhookEndpoints(ctx, cfg.Webhooks.opts.URLs); err != nil {
		ln.Close()
		return err
	}
	// The background tasks: the redirect service's click flusher and
	// LISTEN change feed, the duplicate monitor, the webhook worker (with
	// WEBHOOK_URLS). The HTTP layer is built over them and starts nothing.
	rt := handlers.Start(store, cfg.handlersConfig(), log)
	// ADMIN_USER/ADMIN_PASSWORD keep working: that account is created or
	// updated before the first request.
	if err := rt.Base.BootstrapAdmin(ctx); err != nil {
		ln.Close()
		return errors.Join(err, rt.Stop(context.Background()))
	}
	// Audit retention (AUDIT_RETENTION) and old sessions: pruned hourly.
	pruneCtx, stopPrune := context.WithCancel(ctx)
	defer stopPrune()
	go pruneAudit(pruneCtx, store, cfg.AuditRetention, log)
	h := handlers.New(rt)
	srv := &http.Server{
		Handler:           h.NewServer(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving", "addr", ln.Addr().String(), "base_url", cfg.baseURL())
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("serve: %w", err) // still flush what was counted
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil { // 1. no more requests
		log.Warn("shutdown", "err", err)
	}
	// 2. A budget of its own: slow requests must not eat the final flush's.
	cctx, cancelStop := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancelStop()
	return errors.Join(serveErr, rt.Stop(cctx))
}

// pruneAudit deletes audit rows past the retention (AUDIT_RETENTION) and
// old sessions, at start and then hourly, until ctx ends. Every instance
// does it; the deletes are idempotent and batched.
func pruneAudit(ctx context.Context, store *db.Store, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := store.PruneAudit(ctx, retention); err != nil && ctx.Err() == nil {
			log.Warn("prune audit trail", "err", err)
		} else if n > 0 {
			log.Info("pruned audit trail", "rows", n, "retention", retention.String())
		}
		if err := store.PruneSessions(ctx); err != nil && ctx.Err() == nil {
			log.Warn("prune sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
