package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// A cursor of a clicks order that a flush has jumped a link across: the
// API answers 409 cursor_stale (never a page that skips the link), and the
// admin listing starts again from the top, saying why.
func TestStaleClicksCursorIsRefusedNotSkipped(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	var ids []int64
	for i := range 4 {
		ids = append(ids, app.addLink(t, fmt.Sprintf("https://walk%d.example.com/", i), "sms").ID)
	}
	flush := func(id, clicks int64) {
		t.Helper()
		if _, err := app.Store.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(),
			Rows: []db.ClickRow{{LinkID: id, Day: time.Now(), Clicks: clicks}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		flush(id, int64(10*(i+1)))
	}
	status, body := app.api(t, "GET", "/api/v1/links?sort=most_clicks&limit=2", nil)
	cursor, _ := body["next_cursor"].(string)
	if status != http.StatusOK || cursor == "" {
		t.Fatalf("first page: %d %v", status, body)
	}
	flush(ids[0], 100) // the last link jumps to the top: the next page would skip it
	status, body = app.api(t, "GET", "/api/v1/links?sort=most_clicks&limit=2&cursor="+url.QueryEscape(cursor), nil)
	if status != http.StatusConflict || errorOf(body, "code") != "cursor_stale" {
		t.Errorf("next page after a crossing flush: %d %v, want 409 cursor_stale", status, body)
	}

	b := app.signedIn(t)
	resp, doc := b.get("/admin/links?sort=most_clicks&cursor=" + url.QueryEscape(cursor))
	if resp.StatusCode != http.StatusOK || !strings.Contains(doc.Find(".flash").Text(), "starts again from the top") {
		t.Errorf("admin listing with the stale cursor: %d, flash %q", resp.StatusCode, doc.Find(".flash").Text())
	}
	if first := strings.TrimSpace(doc.Find("tbody tr").First().Text()); !strings.Contains(first, "walk0") {
		t.Errorf("the restarted listing does not start with the most clicked link: %q", first)
	}
}

// The health page lists a dead-lettered batch and replays it once.
func TestHealthPageReplaysADeadLetter(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	l := app.addLink(t, "https://dead.example.com/", "sms")
	letter := db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: l.ID, Day: time.Now(), Clicks: 7}}}
	if _, err := app.Store.DeadLetterClicks(ctx, db.NewBatchID(), letter, "timed out (FLUSH_STATEMENT_TIMEOUT) on every attempt", 2); err != nil {
		t.Fatal(err)
	}
	b := app.signedIn(t)
	_, doc := b.get("/admin/health")
	if status := doc.Find("#dead-letters-status").Text(); !strings.Contains(status, "7 clicks") {
		t.Errorf("dead letters status %q, want the 7 clicks waiting", status)
	}
	if row := doc.Find("#dead-letters tbody tr").Text(); !strings.Contains(row, l.Slug) || !strings.Contains(row, "timed out") {
		t.Errorf("dead letter row %q", row)
	}
	if resp := b.submit(doc, "#dead-letters form"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replay: %d", resp.StatusCode)
	}
	_, doc = b.get("/admin/health?replay=replayed&letter=1&clicks=7")
	if doc.Find("#dead-letters-none").Length() != 1 || !strings.Contains(doc.Find("#replayed").Text(), "7 clicks are counted") {
		t.Errorf("after the replay: flash %q, letters left %q", doc.Find("#replayed").Text(), doc.Find("#dead-letters").Text())
	}
	if clicks, _, _ := app.counts(t, l.Slug); clicks != 7 {
		t.Errorf("clicks %d after the replay, want 7", clicks)
	}
}
