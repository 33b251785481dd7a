package handlers

import (
	"context"
	"errors"
)

// Close releases what the handlers hold once the server has stopped taking
// requests: it writes every click still counted in memory, retrying until
// ctx ends. It must be called after http.Server.Shutdown.
func (h *Handlers) Close(ctx context.Context) error {
	// Clicks first: they are what the database must not lose (and their
	// webhooks are queued with them; the worker sends them later, here or
	// on another instance).
	err := errors.Join(h.redirects.Close(ctx), h.stopMonitor(ctx)) // monitor.go: persists the conflict count
	if h.webhooks != nil {
		err = errors.Join(err, h.webhooks.Close(ctx))
	}
	return err
}
