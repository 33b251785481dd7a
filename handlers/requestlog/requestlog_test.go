package requestlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/shortlinks/shortlinks/handlers/requestlog"
)

// A line logged with a request's context names the request, also through
// loggers derived with With and WithGroup; other lines do not.
func TestLinesCarryTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := requestlog.Logger(slog.New(slog.NewJSONHandler(&buf, nil)))
	if requestlog.Logger(log) != log {
		t.Error("wrapping twice should be a no-op")
	}
	ctx := requestlog.WithID(context.Background(), "abc123")
	log.InfoContext(ctx, "in request")
	log.With("slug", "x").InfoContext(ctx, "derived")
	log.Info("no request")

	var lines []map[string]any
	for _, raw := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, want := range []any{"abc123", "abc123", nil} {
		if got := lines[i][requestlog.Attr]; got != want {
			t.Errorf("line %d (%v): request_id %v, want %v", i, lines[i]["msg"], got, want)
		}
	}
}
