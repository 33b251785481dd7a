package db_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// Taps are attributed in the flush, once per batch even when the batch is
// replayed, each to the latest send at or before it.
func TestFlushAttributesTapsToSendsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	b, err := s.CreateBusiness(ctx, db.NewBusiness{Name: "Rosa", SiteURL: "https://rosa.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	link, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://rosa.example.com/", LinkType: db.LinkTypeSitePreview, BusinessID: &b.ID})
	if err != nil {
		t.Fatal(err)
	}
	send := func(key, variant string) db.Send {
		t.Helper()
		hash := sha256.Sum256([]byte(key))
		sn, created, err := s.RecordSend(ctx, db.NewSend{BusinessID: b.ID, Variant: variant, Message: "m", LinkID: link.ID,
			Slug: link.Slug, ShortURL: "https://sho.rt/" + link.Slug, Encoding: "GSM-7", Segments: 1, CostMicros: 7900, Currency: "USD"},
			db.Idempotency{Key: key, RequestHash: hash[:]})
		if err != nil || !created {
			t.Fatalf("send %s: %v %t", key, err, created)
		}
		return sn
	}
	first := send("k1", "friendly")
	second := send("k2", "urgent")
	at := func(d time.Time, offset time.Duration) time.Time { return d.Add(offset) }
	batch := db.ClickBatch{ID: db.NewBatchID(),
		Rows: []db.ClickRow{{LinkID: link.ID, Day: first.SentAt, Clicks: 6}},
		Taps: []db.TapRow{
			{Tapped: link.ID, Counted: link.ID, At: at(first.SentAt, -time.Millisecond), Clicks: 1}, // before any send
			{Tapped: link.ID, Counted: link.ID, At: first.SentAt, Clicks: 2},                        // at the send: its
			{Tapped: link.ID, Counted: link.ID, At: at(second.SentAt, -time.Microsecond), Clicks: 1},
			{Tapped: link.ID, Counted: link.ID, At: at(second.SentAt, time.Hour), Clicks: 2},
		}}
	for range 2 { // the second is a replay of a batch whose answer was lost
		if _, err := s.FlushClicks(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.CampaignResults(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Variant] = r.Clicks
		if r.BusinessesClicked != 1 || r.Sends != 1 {
			t.Errorf("%s: %+v", r.Variant, r)
		}
	}
	if got["friendly"] != 3 || got["urgent"] != 2 {
		t.Errorf("attributed %v; want friendly 3, urgent 2 (and the tap before the first send nowhere)", got)
	}
	// The same key with another request is refused, and records nothing.
	_, _, err = s.RecordSend(ctx, db.NewSend{BusinessID: b.ID, Variant: "friendly", LinkID: link.ID}, db.Idempotency{Key: "k1", RequestHash: []byte("other")})
	if !errors.Is(err, db.ErrIdempotencyMismatch) {
		t.Errorf("key reused with another request: %v", err)
	}
}

// A send queues one send.recorded webhook per enabled endpoint, in the
// statement that records it; repeating its key queues nothing more.
func TestRecordSendQueuesOneWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	s.DB().MustExec(`INSERT INTO webhook_endpoints (url) VALUES ('https://hooks.example.com/a'), ('https://hooks.example.com/b')`)
	s.DB().MustExec(`INSERT INTO webhook_endpoints (url, enabled) VALUES ('https://hooks.example.com/off', false)`)
	b, err := s.CreateBusiness(ctx, db.NewBusiness{Name: "Rosa", SiteURL: "https://rosa.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	link, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://rosa.example.com/", LinkType: db.LinkTypeSitePreview})
	if err != nil {
		t.Fatal(err)
	}
	ns := db.NewSend{BusinessID: b.ID, Variant: "urgent", Message: "Rosa: see it now", LinkID: link.ID, Slug: link.Slug,
		ShortURL: "https://sho.rt/" + link.Slug, Encoding: "GSM-7", Segments: 1, CostMicros: 7900, Currency: "USD"}
	idem := db.Idempotency{Key: "hook-1", RequestHash: []byte("h")}
	sent, _, err := s.RecordSend(ctx, ns, idem)
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := s.RecordSend(ctx, ns, idem); err != nil || created {
		t.Fatalf("repeat: %v %t", err, created)
	}
	got := queuedEvents(t, s, db.EventSendRecorded)
	if len(got) != 2 {
		t.Fatalf("%d send.recorded queued, want 2 (one per enabled endpoint): %+v", len(got), got)
	}
	for _, q := range got {
		data := q.Payload.Data
		if q.Payload.Type != db.EventSendRecorded || q.MsgID == "" || data["id"] != sent.ID || data["variant"] != "urgent" || data["estimated_cost"] != 0.0079 || data["slug"] != link.Slug {
			t.Errorf("payload %+v", q.Payload)
		}
	}
}
