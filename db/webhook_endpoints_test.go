package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

func endpointURLs(evs []queued) map[string]int {
	out := map[string]int{}
	for _, e := range evs {
		out[e.Endpoint]++
	}
	return out
}

// An endpoint's event filter decides which events are queued for it,
// whoever queues them: the link triggers, EnqueueWebhook and the click
// flush alike. An empty filter means every event; a disabled endpoint gets
// none.
func TestEndpointFilterAppliesToEveryWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	const all, created, clicked, off = "https://all.example.com/h", "https://created.example.com/h", "https://clicked.example.com/h", "https://off.example.com/h"
	for _, ne := range []db.NewWebhookEndpoint{
		{URL: all, Secret: "whsec_a"},
		{URL: created, EventTypes: []string{db.EventLinkCreated}, Secret: "whsec_b"},
		{URL: clicked, EventTypes: []string{db.EventLinkClicked, db.EventSendRecorded}, Secret: "whsec_c"},
		{URL: off, Disabled: true, Secret: "whsec_d"},
	} {
		if _, err := s.CreateWebhookEndpoint(ctx, ne); err != nil {
			t.Fatal(err)
		}
	}
	ids := newLinks(t, s, 1)
	if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: ids[0], Day: monday, Clicks: 3}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueWebhook(ctx, s.DB(), db.EventSendRecorded, "msg_send_1", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[string]map[string]int{
		db.EventLinkCreated:  {all: 1, created: 1},
		db.EventLinkClicked:  {all: 1, clicked: 1},
		db.EventSendRecorded: {all: 1, clicked: 1},
	} {
		got := endpointURLs(queuedEvents(t, s, typ))
		if len(got) != len(want) || got[all] != 1 || got[created] != want[created] || got[clicked] != want[clicked] {
			t.Errorf("%s queued for %v, want %v", typ, got, want)
		}
	}
}

// Configured endpoints are read-only through the store's change methods;
// the ones added through the API change, rotate and go away, and a second
// endpoint with the same URL is a conflict.
func TestEndpointChangesAndReadOnlyConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	syncEndpoints(t, s, "https://config.example.com/h")
	page, _, err := s.WebhookEndpointsPage(ctx, 10, nil)
	if err != nil || len(page) != 1 || page[0].Source != db.WebhookSourceConfig {
		t.Fatalf("configured endpoint: %+v %v", page, err)
	}
	cfgID := page[0].ID
	off := true
	if _, err := s.UpdateWebhookEndpoint(ctx, cfgID, db.WebhookEndpointPatch{Disabled: &off}); !errors.Is(err, db.ErrManagedByConfig) {
		t.Errorf("update of a configured endpoint: %v, want ErrManagedByConfig", err)
	}
	if err := s.DeleteWebhookEndpoint(ctx, cfgID); !errors.Is(err, db.ErrManagedByConfig) {
		t.Errorf("delete of a configured endpoint: %v, want ErrManagedByConfig", err)
	}
	if _, err := s.CreateWebhookEndpoint(ctx, db.NewWebhookEndpoint{URL: "https://config.example.com/h", Secret: "whsec_x"}); !errors.Is(err, db.ErrConflict) {
		t.Errorf("second endpoint for one URL: %v, want ErrConflict", err)
	}

	e, err := s.CreateWebhookEndpoint(ctx, db.NewWebhookEndpoint{URL: "https://api.example.com/h", Secret: "whsec_one"})
	if err != nil || e.Source != db.WebhookSourceAPI || !e.Enabled || len(e.EventTypes) != 0 {
		t.Fatalf("create: %+v %v", e, err)
	}
	types := []string{db.EventLinkCreated}
	e, err = s.UpdateWebhookEndpoint(ctx, e.ID, db.WebhookEndpointPatch{EventTypes: &types, Disabled: &off})
	if err != nil || e.Enabled || len(e.EventTypes) != 1 || e.URL != "https://api.example.com/h" {
		t.Fatalf("update: %+v %v", e, err)
	}
	// Rotating keeps the old secret signing for the overlap, then not.
	if _, err := s.RotateWebhookSecret(ctx, e.ID, "whsec_two", time.Hour); err != nil {
		t.Fatal(err)
	}
	sec, err := s.WebhookEndpointSecrets(ctx, e.ID)
	if err != nil || sec.Current != "whsec_two" || sec.Previous != "whsec_one" {
		t.Errorf("during the overlap: %+v %v", sec, err)
	}
	if e, err = s.RotateWebhookSecret(ctx, e.ID, "whsec_three", 0); err != nil || e.RotatingUntil != nil {
		t.Fatalf("rotate without overlap: %+v %v", e, err)
	}
	if sec, _ = s.WebhookEndpointSecrets(ctx, e.ID); sec.Current != "whsec_three" || sec.Previous != "" {
		t.Errorf("after the overlap: %+v", sec)
	}
	if err := s.DeleteWebhookEndpoint(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WebhookEndpoint(ctx, e.ID); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("deleted endpoint read back: %v", err)
	}
	// The configuration does not take over an endpoint added through the API.
	api, err := s.CreateWebhookEndpoint(ctx, db.NewWebhookEndpoint{URL: "https://both.example.com/h", Secret: "whsec_z"})
	if err != nil {
		t.Fatal(err)
	}
	syncEndpoints(t, s, "https://both.example.com/h")
	if got, _ := s.WebhookEndpoint(ctx, api.ID); got.Source != db.WebhookSourceAPI || !got.Enabled {
		t.Errorf("after sync: %+v", got)
	}
	if got, _ := s.WebhookEndpoint(ctx, cfgID); got.Enabled {
		t.Error("a configured endpoint left out of WEBHOOK_URLS is still enabled")
	}
}

// Paging walks every endpoint once; a cursor of another listing is refused.
func TestEndpointsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	for _, u := range []string{"https://a.example.com/", "https://b.example.com/", "https://c.example.com/"} {
		if _, err := s.CreateWebhookEndpoint(ctx, db.NewWebhookEndpoint{URL: u, Secret: "whsec_x"}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	var cur *db.Cursor
	for range 5 {
		page, next, err := s.WebhookEndpointsPage(ctx, 2, cur)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			seen = append(seen, e.URL)
		}
		if next == nil {
			break
		}
		cur = next
	}
	if len(seen) != 3 || seen[0] != "https://a.example.com/" || seen[2] != "https://c.example.com/" {
		t.Errorf("pages: %v", seen)
	}
	if _, _, err := s.WebhookEndpointsPage(ctx, 2, &db.Cursor{Order: "created", ID: "1"}); !errors.Is(err, db.ErrInvalidInput) {
		t.Errorf("foreign cursor: %v", err)
	}
}
