package handlers_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/shortlinks/shortlinks/db/pgtest"
	"github.com/shortlinks/shortlinks/handlers/requestlog"
)

// Every line a request writes carries its ID, the store's included: the
// get-or-create that loses a race logs from db, the request line from
// handlers, and an operator can follow one to the other.
func TestLogLinesOfARequestCarryItsID(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	app := newLoggingTestApp(t, pgtest.NewMigratedDatabase(t), log)
	loseRace(t, app, "https://traced.example.com/")

	seen := map[string]bool{}
	for _, line := range bytes.Split(logs.Bytes(), []byte("\n")) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) != nil || rec[requestlog.Attr] != loseRaceID {
			continue
		}
		seen[rec["msg"].(string)] = true
	}
	for _, msg := range []string{"request", "store: get-or-create lost the insert race; reading the winner"} {
		if !seen[msg] {
			t.Errorf("no %q line with request_id %s; lines with it: %v\n%s", msg, loseRaceID, seen, logs.Bytes())
		}
	}
}
