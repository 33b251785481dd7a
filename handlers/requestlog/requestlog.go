// Package requestlog carries a request's ID in its context and adds it to
// every log line written with that context: the handlers' lines and the
// store's alike, though the store knows nothing of HTTP (it only passes the
// context it was given to its logger).
package requestlog

import (
	"context"
	"log/slog"
)

type idKey struct{}

// idContext is context.WithValue(parent, idKey{}, id) in one allocation
// instead of two (the string need not be boxed until a line is logged):
// this runs on every redirect.
type idContext struct {
	context.Context
	id string
}

func (c *idContext) Value(key any) any {
	if key == (idKey{}) {
		return c.id
	}
	return c.Context.Value(key)
}

// WithID returns ctx carrying the request ID id.
func WithID(ctx context.Context, id string) context.Context {
	return &idContext{ctx, id}
}

// ID returns the request ID ctx carries, or "".
func ID(ctx context.Context) string {
	if c, ok := ctx.(*idContext); ok { // the common case, without boxing
		return c.id
	}
	id, _ := ctx.Value(idKey{}).(string)
	return id
}

// Attr is the log attribute name of the request ID.
const Attr = "request_id"

// Handler wraps h so that a record logged with a context carrying a request
// ID gets a request_id attribute. Wrapping twice adds it once.
func Handler(h slog.Handler) slog.Handler {
	if _, ok := h.(handler); ok {
		return h
	}
	return handler{h}
}

// Logger is log whose handler adds the request ID (see Handler).
func Logger(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(handler); ok {
		return log
	}
	return slog.New(Handler(log.Handler()))
}

type handler struct{ slog.Handler }

// Handle is called only for enabled records, so a disabled debug line
// costs no context lookup.
func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r.AddAttrs(slog.String(Attr, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler {
	return handler{h.Handler.WithGroup(name)}
}
