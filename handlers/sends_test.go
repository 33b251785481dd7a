package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
)

// post calls the API with an optional Idempotency-Key; it returns errors
// rather than failing, so goroutines may use it.
func (a *testApp) post(path, key string, body any) (int, map[string]any, error) {
	buf, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", a.URL+path, bytes.NewReader(buf))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s: invalid JSON %q", path, raw)
	}
	return resp.StatusCode, out, nil
}

func (a *testApp) mustPost(t *testing.T, path, key string, body any) (int, map[string]any) {
	t.Helper()
	status, out, err := a.post(path, key, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

func (a *testApp) countRows(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := a.Store.DB().Get(&n, `SELECT COUNT(*) FROM `+table); err != nil {
		t.Fatal(err)
	}
	return n
}

// A send stores the message exactly as the preview shows it, once per key.
func TestRecordSendStoresThePreviewOnce(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.addBusiness(t, "Café Zoë", "Austin", "https://zoe.example.com/")
	_, preview := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(b.ID, "urgent"))

	status, sent := app.mustPost(t, "/api/v1/campaigns/sends", "send-zoe-1", previewBody(b.ID, "urgent"))
	if status != http.StatusCreated || sent["created"] != true {
		t.Fatalf("first send: %d %v", status, sent)
	}
	for _, f := range []string{"message", "short_url", "slug", "encoding", "segments", "estimated_cost", "currency"} {
		if fmt.Sprint(sent[f]) != fmt.Sprint(preview[f]) {
			t.Errorf("send %s = %v, preview showed %v", f, sent[f], preview[f])
		}
	}
	if sent["business_id"] != b.ID || sent["variant"] != "urgent" || sent["id"] == "" || sent["sent_at"] == nil {
		t.Errorf("send = %v", sent)
	}

	status, again := app.mustPost(t, "/api/v1/campaigns/sends", "send-zoe-1", map[string]any{"variant": "urgent", "business_id": b.ID})
	if status != http.StatusOK || again["created"] != false || again["id"] != sent["id"] || again["sent_at"] != sent["sent_at"] {
		t.Errorf("repeat: %d %v, want 200 with the same send", status, again)
	}
	status, other := app.mustPost(t, "/api/v1/campaigns/sends", "send-zoe-1", previewBody(b.ID, "friendly"))
	if status != http.StatusUnprocessableEntity || errorOf(other, "field") != "Idempotency-Key" {
		t.Errorf("same key, other body: %d %v, want 422", status, other)
	}
	// One key space: the send's key cannot create a business.
	status, _ = app.mustPost(t, "/api/v1/businesses", "send-zoe-1", map[string]any{"name": "X", "site_url": "https://x.example.com/"})
	if status != http.StatusUnprocessableEntity {
		t.Errorf("send key reused for a business: %d, want 422", status)
	}
	if n := app.countRows(t, "campaign_sends"); n != 1 {
		t.Errorf("%d sends recorded, want 1", n)
	}

	app.mustPost(t, "/api/v1/campaigns/sends", "send-zoe-2", previewBody(b.ID, "friendly"))
	other2 := app.addBusiness(t, "Elsewhere", "Dallas", "https://elsewhere.example.com/")
	app.mustPost(t, "/api/v1/campaigns/sends", "send-else-1", previewBody(other2.ID, "friendly"))
	var answer struct {
		Sends []map[string]any `json:"sends"`
	}
	app.getJSON(t, "/api/v1/campaigns/sends?business_id="+b.ID, &answer)
	list := answer.Sends
	if len(list) != 2 || list[0]["variant"] != "friendly" || list[1]["id"] != sent["id"] {
		t.Errorf("sends of the business, newest first: %v", list)
	}
	if status, body := app.api(t, "GET", "/api/v1/campaigns/sends?business_id=nope", nil); status != http.StatusBadRequest || errorOf(body, "field") != "business_id" {
		t.Errorf("bad business_id: %d %v", status, body)
	}
}

// getJSON GETs an API path and decodes its 200 answer into out.
func (a *testApp) getJSON(t *testing.T, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// Bad input is a 400 naming the field, and records nothing.
func TestRecordSendRefusesBadInput(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.addBusiness(t, "Deli", "Austin", "https://deli.example.com/")
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'k'
	}
	for _, tt := range []struct {
		name, key string
		body      any
		field     string
	}{
		{"no key", "", previewBody(b.ID, "friendly"), "Idempotency-Key"},
		{"key too long", string(long), previewBody(b.ID, "friendly"), "Idempotency-Key"},
		{"key not ASCII", "clé", previewBody(b.ID, "friendly"), "Idempotency-Key"},
		{"no business", "k1", map[string]any{"variant": "friendly"}, "business_id"},
		{"business not a UUID", "k2", previewBody("42", "friendly"), "business_id"},
		{"unknown business", "k3", previewBody("00000000-0000-4000-8000-000000000000", "friendly"), "business_id"},
		{"no variant", "k4", map[string]any{"business_id": b.ID}, "variant"},
		{"unknown variant", "k5", previewBody(b.ID, "shouty"), "variant"},
		{"unknown field", "k6", map[string]any{"business_id": b.ID, "variant": "friendly", "segments": 1}, "segments"},
	} {
		status, body := app.mustPost(t, "/api/v1/campaigns/sends", tt.key, tt.body)
		if status != http.StatusBadRequest || errorOf(body, "field") != tt.field {
			t.Errorf("%s: %d %v, want 400 naming %s", tt.name, status, body, tt.field)
		}
	}
	if n := app.countRows(t, "campaign_sends") + app.countRows(t, "idempotency_keys"); n != 0 {
		t.Errorf("bad requests recorded %d rows", n)
	}
	// The k3 key was never used, so it can still record a send.
	if status, _ := app.mustPost(t, "/api/v1/campaigns/sends", "k3", previewBody(b.ID, "friendly")); status != http.StatusCreated {
		t.Errorf("a key refused with its request stays free: %d", status)
	}
}

// 50 identical requests at once record one send; every answer is that send.
func TestConcurrentIdenticalSendsRecordOne(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	const n = 50
	type answer struct {
		status int
		id     any
		err    error
	}
	answers := make(chan answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			status, body, err := app.post("/api/v1/campaigns/sends", "same-key", previewBody(b.ID, "friendly"))
			answers <- answer{status, body["id"], err}
		})
	}
	close(start)
	wg.Wait()
	close(answers)
	created, ids := 0, map[any]bool{}
	for a := range answers {
		if a.err != nil {
			t.Fatal(a.err)
		}
		switch a.status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("status %d", a.status)
		}
		ids[a.id] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Errorf("%d answers said created, %d distinct sends answered; want 1 and 1", created, len(ids))
	}
	if rows := app.countRows(t, "campaign_sends"); rows != 1 {
		t.Errorf("%d sends recorded, want 1", rows)
	}
}

// 100 identical business creations at once with one key create one.
func TestConcurrentIdenticalBusinessCreationsCreateOne(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	const n = 100
	body := map[string]any{"name": "Twin Tacos", "city": "Austin", "site_url": "https://tacos.example.com/"}
	statuses := make(chan int, n)
	errs := make(chan error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			status, _, err := app.post("/api/v1/businesses", "biz-key-1", body)
			statuses <- status
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusOK] != n-1 {
		t.Errorf("answers %v, want one 201 and %d 200", count, n-1)
	}
	if rows := app.countRows(t, "businesses"); rows != 1 {
		t.Errorf("%d businesses created, want 1", rows)
	}
	body["name"] = "Other Tacos"
	if status, _ := app.mustPost(t, "/api/v1/businesses", "biz-key-1", body); status != http.StatusUnprocessableEntity {
		t.Errorf("same key, other body: %d, want 422", status)
	}
	// Without a key, creation works as before.
	if status, _ := app.mustPost(t, "/api/v1/businesses", "", body); status != http.StatusCreated {
		t.Errorf("no key: %d", status)
	}
}
