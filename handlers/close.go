package handlers

import "context"

// Close releases what the handlers hold once the server has stopped taking
// requests: it writes every click still counted in memory, retrying until
// ctx ends. It must be called after http.Server.Shutdown.
func (h *Handlers) Close(ctx context.Context) error {
	return h.redirects.Close(ctx)
}
