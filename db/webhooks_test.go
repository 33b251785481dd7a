package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// queued is one row of webhook_deliveries, decoded.
type queued struct {
	Endpoint string
	MsgID    string
	Type     string
	Payload  struct {
		Type      string         `json:"type"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
}

func queuedEvents(t *testing.T, s *db.Store, eventType string) []queued {
	t.Helper()
	rows, err := s.DB().Query(`SELECT e.url, d.msg_id, d.event_type, d.payload::text
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE d.event_type = $1 ORDER BY d.id`, eventType)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		var payload string
		if err := rows.Scan(&q.Endpoint, &q.MsgID, &q.Type, &payload); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(payload), &q.Payload); err != nil {
			t.Fatalf("payload %s: %v", payload, err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func syncEndpoints(t *testing.T, s *db.Store, urls ...string) {
	t.Helper()
	if err := s.SyncWebhookEndpoints(context.Background(), urls); err != nil {
		t.Fatal(err)
	}
}

// Without endpoints nothing is queued; with two, every event is queued once
// per endpoint under one webhook-id.
func TestWebhooksQueueOnlyForEnabledEndpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 1)
	if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: ids[0], Day: monday, Clicks: 1}}}); err != nil {
		t.Fatal(err)
	}
	var n int
	s.DB().Get(&n, `SELECT COUNT(*) FROM webhook_deliveries`)
	if n != 0 {
		t.Fatalf("%d deliveries queued without endpoints", n)
	}

	syncEndpoints(t, s, "https://a.example.com/hook", "https://b.example.com/hook")
	newLinks(t, s, 2) // link.created for shop0 exists already; these are new
	created := queuedEvents(t, s, db.EventLinkCreated)
	if len(created) != 2*1 { // shop0 was created before the endpoints: only shop1
		t.Fatalf("%d link.created rows, want 2 (one new link × two endpoints): %+v", len(created), created)
	}
	if created[0].MsgID != created[1].MsgID || created[0].Endpoint == created[1].Endpoint {
		t.Errorf("one event must share its webhook-id across endpoints: %+v", created)
	}

	// Removing an endpoint from the configuration stops queueing for it.
	syncEndpoints(t, s, "https://b.example.com/hook")
	if _, err := s.Deactivate(ctx, mustSlug(t, s, ids[0])); err != nil {
		t.Fatal(err)
	}
	deact := queuedEvents(t, s, db.EventLinkDeactivated)
	if len(deact) != 1 || deact[0].Endpoint != "https://b.example.com/hook" {
		t.Errorf("link.deactivated rows: %+v, want one for b only", deact)
	}
}

func mustSlug(t *testing.T, s *db.Store, id int64) string {
	t.Helper()
	var slug string
	if err := s.DB().Get(&slug, `SELECT slug FROM short_links WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return slug
}

// A click batch produces one link.clicked event per link, in the same
// statement as its counts: replaying the batch (its commit answer lost), even
// concurrently, produces no second event, and the events add up to exactly
// the clicks applied.
func TestLinkClickedGeneratedExactlyOncePerBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	syncEndpoints(t, s, "https://crm.example.com/hook")
	ids := newLinks(t, s, 20)
	from := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	var batches []db.ClickBatch
	for b := range 5 {
		var rows []db.ClickRow
		for i, id := range ids {
			rows = append(rows, db.ClickRow{LinkID: id, Day: monday, Clicks: int64(b + i + 1), Previews: int64(i % 2)})
		}
		// Link 0 also has clicks on the next day in this batch: still one event.
		rows = append(rows, db.ClickRow{LinkID: ids[0], Day: tuesday, Clicks: 100})
		batches = append(batches, db.ClickBatch{ID: db.NewBatchID(), Rows: rows,
			From: from.Add(time.Duration(b) * time.Second), To: from.Add(time.Duration(b+1) * time.Second)})
	}
	// Every batch is sent three times at once: the first commit wins.
	var wg sync.WaitGroup
	errs := make(chan error, 15)
	for _, b := range batches {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.FlushClicks(ctx, b)
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	events := queuedEvents(t, s, db.EventLinkClicked)
	if len(events) != len(ids)*len(batches) {
		t.Fatalf("%d link.clicked events, want %d (links × batches)", len(events), len(ids)*len(batches))
	}
	seen := map[string]bool{}
	clicksBySlug := map[string]int64{}
	for _, e := range events {
		if seen[e.MsgID] {
			t.Errorf("webhook-id %s generated twice", e.MsgID)
		}
		seen[e.MsgID] = true
		d := e.Payload.Data
		if e.Payload.Type != db.EventLinkClicked || d["slug"] == nil || d["destination_url"] == nil || d["link_type"] != "site_preview" {
			t.Fatalf("payload: %+v", e.Payload)
		}
		if _, ok := d["business_id"]; !ok {
			t.Errorf("payload has no business_id key: %+v", d)
		}
		f, _ := time.Parse(time.RFC3339Nano, d["from"].(string))
		to, _ := time.Parse(time.RFC3339Nano, d["to"].(string))
		if to.Sub(f) != time.Second || f.Before(from) {
			t.Errorf("from %v to %v: want the batch's one-second window", d["from"], d["to"])
		}
		clicksBySlug[d["slug"].(string)] += int64(d["clicks"].(float64))
	}
	for _, id := range ids {
		c, _, _, _ := counts(t, s, id)
		if got := clicksBySlug[mustSlug(t, s, id)]; got != c {
			t.Errorf("link %d: events add up to %d clicks, the link counted %d", id, got, c)
		}
	}
}

// Only the caller whose insert wins emits link.created, however many race.
func TestLinkCreatedOnlyByTheWinner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	syncEndpoints(t, s, "https://crm.example.com/hook")
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = s.GetOrCreateLink(ctx, siteLink("https://race.example.com/"))
		}()
	}
	wg.Wait()
	created := queuedEvents(t, s, db.EventLinkCreated)
	if len(created) != 1 || created[0].Payload.Data["destination_url"] != "https://race.example.com/" {
		t.Fatalf("link.created rows: %+v, want exactly one", created)
	}

	// Deactivating twice is one event; after reactivating, a second one.
	slug := created[0].Payload.Data["slug"].(string)
	for _, op := range []func(context.Context, string) (db.Link, error){s.Deactivate, s.Deactivate, s.Activate, s.Deactivate} {
		if _, err := op(ctx, slug); err != nil {
			t.Fatal(err)
		}
	}
	if d := queuedEvents(t, s, db.EventLinkDeactivated); len(d) != 2 || d[0].MsgID == d[1].MsgID {
		t.Errorf("link.deactivated rows: %+v, want two distinct events", d)
	}
}

// EnqueueWebhook belongs to its caller's transaction: a rollback leaves no
// event, a commit leaves one.
func TestEnqueueWebhookFollowsTheTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	syncEndpoints(t, s, "https://crm.example.com/hook")
	data := map[string]any{"send_id": 7, "slug": "abc123"}
	for _, commit := range []bool{false, true} {
		tx, err := s.DB().BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.EnqueueWebhook(ctx, tx, db.EventSendRecorded, fmt.Sprintf("msg_send_%t", commit), data); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	got := queuedEvents(t, s, db.EventSendRecorded)
	if len(got) != 1 || got[0].MsgID != "msg_send_true" || got[0].Payload.Data["slug"] != "abc123" {
		t.Errorf("send.recorded rows: %+v, want only the committed one", got)
	}
}

// Concurrent leases (as from several instances) never hand out one delivery
// twice, and a leased delivery is not due again until its lease runs out.
func TestLeasesDoNotOverlap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	syncEndpoints(t, s, "https://crm.example.com/hook")
	newLinks(t, s, 300) // 300 link.created deliveries
	var mu sync.Mutex
	leased := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ds, err := s.LeaseWebhookDeliveries(ctx, 7, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					leased[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(leased) != 300 {
		t.Errorf("%d deliveries leased, want 300", len(leased))
	}
	for id, n := range leased {
		if n != 1 {
			t.Errorf("delivery %d leased %d times", id, n)
		}
	}
}

// An endpoint that keeps failing is suspended: only one probe at a time is
// leased for it; a success lifts the suspension.
func TestFailingEndpointIsSuspendedAndProbed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	syncEndpoints(t, s, "https://down.example.com/hook")
	newLinks(t, s, 10)
	ds, err := s.LeaseWebhookDeliveries(ctx, 3, time.Minute)
	if err != nil || len(ds) != 3 {
		t.Fatalf("lease: %d, %v", len(ds), err)
	}
	for _, d := range ds {
		err := s.WebhookFailed(ctx, d, db.WebhookFailure{Status: 503, Error: "HTTP 503", RetryAt: time.Now(),
			SuspendAfter: 3, ProbeEvery: time.Hour, RetryFor: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
	}
	if more, _ := s.LeaseWebhookDeliveries(ctx, 10, time.Minute); len(more) != 0 {
		t.Fatalf("leased %d deliveries of a suspended endpoint", len(more))
	}
	eps, _ := s.WebhookEndpoints(ctx)
	if len(eps) != 1 || !eps[0].Suspended() || eps[0].ConsecutiveFailures != 3 || eps[0].Pending != 10 {
		t.Fatalf("endpoint: %+v", eps)
	}
	// The probe is due an hour from now: make it due, as time would.
	s.DB().MustExec(`UPDATE webhook_endpoints SET probe_at = now() - interval '1 second'`)
	probes, err := s.LeaseWebhookProbes(ctx, time.Hour, time.Minute)
	if err != nil || len(probes) != 1 {
		t.Fatalf("probes: %d, %v", len(probes), err)
	}
	if again, _ := s.LeaseWebhookProbes(ctx, time.Hour, time.Minute); len(again) != 0 {
		t.Fatalf("a second probe was leased at once")
	}
	if err := s.WebhooksDelivered(ctx, []db.Acknowledged{{Delivery: probes[0], Status: 200}}); err != nil {
		t.Fatal(err)
	}
	rest, _ := s.LeaseWebhookDeliveries(ctx, 20, time.Minute)
	if len(rest) != 9 {
		t.Errorf("after a successful probe %d deliveries leased, want the 9 left", len(rest))
	}
}

// Deliveries given up after RetryFor can be requeued, one by one or for a
// whole endpoint; the log keeps them until pruned, never pending ones.
func TestGivenUpDeliveriesRetryAndPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	syncEndpoints(t, s, "https://down.example.com/hook")
	newLinks(t, s, 4)
	ds, err := s.LeaseWebhookDeliveries(ctx, 3, time.Minute)
	if err != nil || len(ds) != 3 {
		t.Fatalf("lease: %d, %v", len(ds), err)
	}
	for i, d := range ds {
		if i == len(ds)-1 {
			// The endpoint must have been failing for longer than
			// RetryFor when the last failure comes (the three can land
			// within a millisecond on a fast machine).
			time.Sleep(5 * time.Millisecond)
		}
		// RetryFor of a millisecond: the event is already too old to retry.
		err := s.WebhookFailed(ctx, d, db.WebhookFailure{Error: "connection refused", RetryAt: time.Now(),
			SuspendAfter: 100, ProbeEvery: time.Hour, RetryFor: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The three attempted are given up, and so is the fourth, never tried:
	// the endpoint has been failing for longer than events are retried.
	failed, _ := s.WebhookDeliveries(ctx, db.DeliveryFilter{State: db.DeliveryFailed, Limit: 10})
	if len(failed) != 4 || failed[0].Attempts != 0 || !strings.HasPrefix(failed[0].LastError, "given up") ||
		failed[1].LastError != "connection refused" || failed[1].Attempts != 1 {
		t.Fatalf("given up: %+v", failed)
	}
	if err := s.RetryWebhookDelivery(ctx, failed[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryWebhookDelivery(ctx, 999999); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("retry of a missing delivery: %v, want ErrNotFound", err)
	}
	n, err := s.RetryWebhookEndpoint(ctx, failed[0].EndpointID)
	if err != nil || n != 3 {
		t.Errorf("endpoint retry requeued %d, %v; want the 3 still given up", n, err)
	}
	if due, _ := s.LeaseWebhookDeliveries(ctx, 10, time.Minute); len(due) != 4 {
		t.Errorf("%d due after the retries, want all 4", len(due))
	}
	// Pruning deletes old finished rows only.
	s.DB().MustExec(`UPDATE webhook_deliveries SET state = 'delivered', created_at = now() - interval '8 days'
		WHERE id = $1`, failed[0].ID)
	s.DB().MustExec(`UPDATE webhook_deliveries SET created_at = now() - interval '8 days' WHERE id = $1`, failed[1].ID)
	pruned, err := s.PruneWebhookDeliveries(ctx, time.Now().Add(-7*24*time.Hour), time.Now().Add(-30*24*time.Hour), 100)
	if err != nil || pruned != 1 {
		t.Errorf("pruned %d, %v; want only the old delivered row", pruned, err)
	}
}
