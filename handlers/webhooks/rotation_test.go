package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/webhooks"
)

// recording is a receiver that keeps every request, to be verified later
// with whichever secrets a test holds.
type recording struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
}

type received struct {
	id, ts, sigs, typ string
	body              []byte
}

func newRecording(t *testing.T) *recording {
	r := &recording{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var e event
		_ = json.Unmarshal(body, &e)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"),
			req.Header.Get("webhook-signature"), e.Type, body})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recording) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// verifies reports whether a receiver holding only secret accepts m.
func verifies(t *testing.T, secret string, m received) bool {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(m.id + "." + m.ts + "."))
	mac.Write(m.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(m.sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// Two endpoints with their own secrets and filters: each gets the events
// it asked for, signed with its own secret; after a rotation, a receiver
// still holding the old secret and one already holding the new one both
// accept every delivery until the overlap ends.
func TestEndpointsSignWithTheirOwnSecretsThroughARotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	filtered, all := newRecording(t), newRecording(t)
	secretA, secretB := webhooks.NewSecret(), webhooks.NewSecret()
	a, err := s.CreateWebhookEndpoint(ctx, db.NewWebhookEndpoint{URL: filtered.srv.URL, Secret: secretA, EventTypes: []string{db.EventLinkDeactivated}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateWebhookEndpoint(ctx, db.NewWebhookEndpoint{URL: all.srv.URL, Secret: secretB}); err != nil {
		t.Fatal(err)
	}
	opts := fastOptions(t)
	opts.Secret = nil // no WEBHOOK_SECRET: every endpoint has its own
	startWorker(t, s, opts)

	slugs := makeLinks(t, s, 3)
	if _, err := s.Deactivate(ctx, slugs[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "four events at the unfiltered receiver", func() bool { return len(all.all()) == 4 })
	waitFor(t, 10*time.Second, "one event at the filtered receiver", func() bool { return len(filtered.all()) == 1 })
	if m := filtered.all()[0]; m.typ != db.EventLinkDeactivated || !verifies(t, secretA, m) || verifies(t, secretB, m) {
		t.Errorf("filtered receiver got %s signed %q, want link.deactivated signed with its own secret only", m.typ, m.sigs)
	}
	for _, m := range all.all() {
		if !verifies(t, secretB, m) {
			t.Errorf("unfiltered receiver: %s does not verify with its secret", m.id)
		}
	}

	rotated := webhooks.NewSecret()
	if _, err := s.RotateWebhookSecret(ctx, a.ID, rotated, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deactivate(ctx, slugs[1]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the event after the rotation", func() bool { return len(filtered.all()) == 2 })
	m := filtered.all()[1]
	if !verifies(t, secretA, m) || !verifies(t, rotated, m) || len(strings.Fields(m.sigs)) != 2 {
		t.Errorf("during the overlap: %q must verify with the old and the new secret", m.sigs)
	}

	// The overlap over, only the new secret signs.
	if _, err := s.DB().Exec(`UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deactivate(ctx, slugs[2]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the event after the overlap", func() bool { return len(filtered.all()) == 3 })
	m = filtered.all()[2]
	if verifies(t, secretA, m) || !verifies(t, rotated, m) {
		t.Errorf("after the overlap: %q must verify with the new secret only", m.sigs)
	}
}
