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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/handlers/webhooks"
)

// keyedReceiver is an integrator's receiver that keeps every request and
// answers 204; which secret a request verifies with is checked afterwards.
type keyedReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []keyedRequest
}

type keyedRequest struct{ id, ts, sigs, typ, body string }

func newKeyedReceiver(t *testing.T) *keyedReceiver {
	r := &keyedReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var e struct{ Type string }
		_ = json.Unmarshal(body, &e)
		r.mu.Lock()
		r.got = append(r.got, keyedRequest{req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"),
			req.Header.Get("webhook-signature"), e.Type, string(body)})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *keyedReceiver) ofType(typ string) []keyedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []keyedRequest
	for _, g := range r.got {
		if g.typ == typ {
			out = append(out, g)
		}
	}
	return out
}

// verifiesWith is the Standard Webhooks check a receiver holding only
// secret makes.
func (k keyedRequest) verifiesWith(secret string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(k.id + "." + k.ts + "." + k.body))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(k.sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

func webhookApp(t *testing.T) *testApp {
	return newTestApp(t, func(c *handlers.Config) {
		c.Webhooks = webhooks.Options{AllowPrivate: true, PollInterval: 20 * time.Millisecond, RotationOverlap: time.Hour}
	})
}

// Two receivers managed through the API, one filtered: each gets the
// events it asked for, signed with its own secret (shown once); a test
// event reaches the filtered one anyway; after a rotation a receiver that
// verifies with the old secret and one with the new both accept.
func TestWebhookEndpointsAPI(t *testing.T) {
	t.Parallel()
	app := webhookApp(t)
	filtered, all := newKeyedReceiver(t), newKeyedReceiver(t)

	status, a := app.api(t, "POST", "/api/v1/webhooks/endpoints", map[string]any{"url": filtered.srv.URL + "/hooks", "event_types": []string{"link.deactivated"}})
	secretA, _ := a["secret"].(string)
	if status != http.StatusCreated || !strings.HasPrefix(secretA, "whsec_") || a["source"] != "api" || a["disabled"] != false {
		t.Fatalf("create: %d %v", status, a)
	}
	status, b := app.api(t, "POST", "/api/v1/webhooks/endpoints", map[string]any{"url": all.srv.URL})
	secretB, _ := b["secret"].(string)
	if status != http.StatusCreated || secretB == secretA || len(b["event_types"].([]any)) != 0 {
		t.Fatalf("create without a filter: %d %v", status, b)
	}
	idA := "/api/v1/webhooks/endpoints/" + jsonID(a)

	// The secret is shown once: never listed, never read back.
	status, list := app.api(t, "GET", "/api/v1/webhooks/endpoints", nil)
	eps, _ := list["endpoints"].([]any)
	if status != 200 || len(eps) != 2 || strings.Contains(mustJSON(list), "whsec_") {
		t.Errorf("list: %d %v", status, list)
	}
	if _, got := app.api(t, "GET", idA, nil); got["secret"] != nil || got["url"] != filtered.srv.URL+"/hooks" {
		t.Errorf("get: %v", got)
	}

	link := app.addLink(t, "https://rosas.example.com/", "campaign")
	if status, _ := app.api(t, "POST", "/api/v1/links/"+link.Slug+"/deactivate", nil); status != 200 {
		t.Fatalf("deactivate: %d", status)
	}
	waitUntil(t, "the unfiltered receiver gets link.created and link.deactivated", func() bool {
		return len(all.ofType("link.created")) == 1 && len(all.ofType("link.deactivated")) == 1
	})
	waitUntil(t, "the filtered receiver gets link.deactivated", func() bool { return len(filtered.ofType("link.deactivated")) == 1 })
	if n := len(filtered.ofType("link.created")); n != 0 {
		t.Errorf("the filtered receiver got %d link.created events", n)
	}
	if d := filtered.ofType("link.deactivated")[0]; !d.verifiesWith(secretA) || d.verifiesWith(secretB) {
		t.Errorf("filtered receiver's event signed %q: want its own secret only", d.sigs)
	}

	// A test event, whatever the filter, with the receiver's answer.
	status, res := app.api(t, "POST", idA+"/test", nil)
	tests := filtered.ofType("webhook.test")
	if status != 200 || res["delivered"] != true || res["status"] != float64(204) || len(tests) != 1 || !tests[0].verifiesWith(secretA) {
		t.Errorf("test event: %d %v; received %v", status, res, tests)
	}

	// Rotation: both signatures during the overlap.
	status, rot := app.api(t, "POST", idA+"/rotate-secret", nil)
	secretA2, _ := rot["secret"].(string)
	if status != 200 || !strings.HasPrefix(secretA2, "whsec_") || secretA2 == secretA || rot["previous_secret_expires_at"] == nil {
		t.Fatalf("rotate: %d %v", status, rot)
	}
	if _, err := app.Store.Activate(context.Background(), link.Slug); err != nil {
		t.Fatal(err)
	}
	if status, _ := app.api(t, "POST", "/api/v1/links/"+link.Slug+"/deactivate", nil); status != 200 {
		t.Fatal("second deactivate failed")
	}
	waitUntil(t, "the event after the rotation", func() bool { return len(filtered.ofType("link.deactivated")) == 2 })
	if d := filtered.ofType("link.deactivated")[1]; !d.verifiesWith(secretA) || !d.verifiesWith(secretA2) {
		t.Errorf("during the overlap %q must verify with the old and the new secret", d.sigs)
	}

	// Disable, then delete.
	if status, got := app.api(t, "PATCH", idA, map[string]any{"disabled": true}); status != 200 || got["disabled"] != true || got["state"] != "disabled" {
		t.Errorf("disable: %d %v", status, got)
	}
	if status, _ := app.api(t, "DELETE", idA, nil); status != http.StatusNoContent {
		t.Errorf("delete: %d", status)
	}
	if status, _ := app.api(t, "GET", idA, nil); status != http.StatusNotFound {
		t.Errorf("get after delete: %d", status)
	}
}

// Bad input is a 400 naming the field and changes nothing; a configured
// endpoint is read-only; one URL has one endpoint.
func TestWebhookEndpointsAPIRefusals(t *testing.T) {
	t.Parallel()
	app := newTestApp(t) // private receivers refused, as by default
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, "url"},
		{map[string]any{"url": "ftp://x.example.com/"}, "url"},
		{map[string]any{"url": "http://127.0.0.1:9/hook"}, "url"},
		{map[string]any{"url": "https://x.example.com/", "event_types": []string{"link.clicked", "link.exploded"}}, "event_types"},
		{map[string]any{"url": "https://x.example.com/", "event_types": []string{"link.clicked", "link.clicked"}}, "event_types"},
		{map[string]any{"url": "https://x.example.com/", "secret": "whsec_mine"}, "secret"},
	} {
		if status, got := app.api(t, "POST", "/api/v1/webhooks/endpoints", tc.body); status != 400 || errorOf(got, "field") != tc.field {
			t.Errorf("POST %v: %d %v, want 400 naming %s", tc.body, status, got, tc.field)
		}
	}
	if _, list := app.api(t, "GET", "/api/v1/webhooks/endpoints", nil); len(list["endpoints"].([]any)) != 0 {
		t.Fatalf("refused creates left endpoints: %v", list)
	}
	status, e := app.api(t, "POST", "/api/v1/webhooks/endpoints", map[string]any{"url": "https://crm.example.com/hook"})
	if status != 201 {
		t.Fatal(status, e)
	}
	if status, got := app.api(t, "POST", "/api/v1/webhooks/endpoints", map[string]any{"url": "https://crm.example.com/hook"}); status != 409 || errorOf(got, "field") != "url" {
		t.Errorf("second endpoint for one url: %d %v", status, got)
	}
	if status, got := app.api(t, "PATCH", "/api/v1/webhooks/endpoints/"+jsonID(e), map[string]any{"event_types": []string{"nope"}}); status != 400 || errorOf(got, "field") != "event_types" {
		t.Errorf("PATCH bad filter: %d %v", status, got)
	}
	for _, path := range []string{"/api/v1/webhooks/endpoints/999999", "/api/v1/webhooks/endpoints/abc"} {
		if status, _ := app.api(t, "GET", path, nil); status != 404 {
			t.Errorf("GET %s: %d, want 404", path, status)
		}
	}

	if err := app.Store.SyncWebhookEndpoints(context.Background(), []string{"https://u:pw@configured.example.com/h"}); err != nil {
		t.Fatal(err)
	}
	_, list := app.api(t, "GET", "/api/v1/webhooks/endpoints", nil)
	var cfg map[string]any
	for _, x := range list["endpoints"].([]any) {
		if m := x.(map[string]any); m["source"] == "config" {
			cfg = m
		}
	}
	if cfg == nil || strings.Contains(cfg["url"].(string), "pw") {
		t.Fatalf("configured endpoint listed as %v, want source config and its password hidden", cfg)
	}
	path := "/api/v1/webhooks/endpoints/" + jsonID(cfg)
	for _, call := range []struct {
		method, path string
		body         any
	}{{"PATCH", path, map[string]any{"disabled": true}}, {"DELETE", path, nil}, {"POST", path + "/rotate-secret", nil}} {
		if status, got := app.api(t, call.method, call.path, call.body); status != 409 || errorOf(got, "code") != "managed_by_config" {
			t.Errorf("%s %s on a configured endpoint: %d %v, want 409 managed_by_config", call.method, call.path, status, got)
		}
	}
}

func jsonID(m map[string]any) string {
	b, _ := json.Marshal(m["id"])
	return string(b)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// waitUntil fails the test when cond does not hold within 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !pollUntil(10*time.Second, cond) {
		t.Fatalf("gave up waiting for %s", what)
	}
}
