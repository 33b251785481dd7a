package handlers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/handlers/webhooks"
)

const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// hookReceiver answers 500 until up, then 204 to requests whose Standard
// Webhooks signature it verifies itself; it keeps the event types by
// webhook-id.
type hookReceiver struct {
	srv   *httptest.Server
	up    atomic.Bool
	mu    sync.Mutex
	types map[string]string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(hookSecret, "whsec_"))
	r := &hookReceiver{types: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.up.Load() {
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
			return
		}
		body, _ := io.ReadAll(req.Body)
		id, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "." + string(body)))
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(req.Header.Get("webhook-signature")), []byte(want)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var e struct{ Type string }
		_ = json.Unmarshal(body, &e)
		r.mu.Lock()
		r.types[id] = e.Type
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) received(typ string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, t := range r.types {
		if t == typ {
			n++
		}
	}
	return n
}

// A delivery that was given up is listed with its failure and sent again
// by "retry now"; the form needs the CSRF token like every admin form.
func TestWebhooksPageRetryNow(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t)
	secret, err := webhooks.ParseSecret(hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	app := newTestApp(t, func(c *handlers.Config) {
		c.Webhooks = webhooks.Options{URLs: []string{rcv.srv.URL}, Secret: secret, AllowPrivate: true,
			PollInterval: 20 * time.Millisecond, RetryFor: time.Millisecond, SuspendAfter: 100}
	})
	if err := app.Store.SyncWebhookEndpoints(context.Background(), []string{rcv.srv.URL}); err != nil {
		t.Fatal(err)
	}
	app.addLink(t, "https://florist.example.com/", "site_preview")
	b := app.signedIn(t)
	var doc = waitForPage(t, b, "/admin/webhooks?state=failed", `tr[data-state="failed"]`)
	row := doc.Find(`#webhook-deliveries tr[data-state="failed"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "link.created") || !strings.Contains(row.Text(), "HTTP 500") {
		t.Fatalf("failed delivery row: %q", row.Text())
	}
	if n := strings.Count(row.Text(), "HTTP 500"); n != 1 {
		t.Errorf("the receiver's status is shown %d times in the row: %q", n, row.Text())
	}
	if nav := doc.Find(`header nav a[aria-current="page"]`).Text(); nav != "Webhooks" {
		t.Errorf("navigation highlights %q", nav)
	}
	id := row.AttrOr("data-delivery", "")

	// Without the CSRF token nothing happens.
	resp, _ := b.post("/admin/webhooks/deliveries/"+id+"/retry", url.Values{})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("retry without CSRF: %d, want 403", resp.StatusCode)
	}
	rcv.up.Store(true)
	// The receiver is up, but the delivery was given up: only "retry now"
	// sends it again.
	resp = b.submit(doc, `form[action="/admin/webhooks/deliveries/`+id+`/retry"]`)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/webhooks?") {
		t.Fatalf("retry: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc = b.get(resp.Header.Get("Location"))
	if msg := doc.Find(".flash.ok").Text(); !strings.Contains(msg, "queued to be sent now") {
		t.Errorf("flash after retry: %q", msg)
	}
	deadline := time.Now().Add(30 * time.Second)
	for rcv.received("link.created") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the retried delivery never arrived")
		}
		time.Sleep(20 * time.Millisecond)
	}
	doc = waitForPage(t, b, "/admin/webhooks?state=delivered", `tr[data-state="delivered"]`)
	if doc.Find(`#webhook-deliveries form`).Length() != 0 {
		t.Error("a delivered row offers retry")
	}

	resp, doc = b.get("/admin/webhooks?state=lost")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Text(), "state must be") {
		t.Errorf("unknown state filter: %d %q, want 400 naming state", resp.StatusCode, doc.Find("main").Text())
	}
}

// waitForPage reloads path until selector matches.
func waitForPage(t *testing.T, b *browser, path, selector string) *goquery.Document {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, doc := b.get(path)
		if doc.Find(selector).Length() > 0 {
			return doc
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %s", path, selector)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
