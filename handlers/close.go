package handlers

import "context"

// Close releases what the handlers hold once the server has stopped taking
// requests. It must be called after http.Server.Shutdown.
func (h *Handlers) Close(ctx context.Context) error {
	return h.stopMonitor(ctx) // monitor.go: persists the conflict count
}
