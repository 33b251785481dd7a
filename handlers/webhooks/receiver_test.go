package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testSecret is the published Standard Webhooks test secret (24 bytes).
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// event is a received webhook body.
type event struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// receiver is a webhook consumer as a customer would write one: it checks
// every request's signature with its own HMAC code (not the sender's), then
// de-duplicates by webhook-id.
type receiver struct {
	srv *httptest.Server
	key []byte

	down     atomic.Bool   // drop connections without answering
	hold     chan struct{} // when set, requests wait until it is closed
	refused  atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64

	mu       sync.Mutex
	events   map[string]event // by webhook-id
	answered map[string]int   // 2xx answers per webhook-id
	badSigs  []string
}

func newReceiver(t *testing.T, hold chan struct{}) *receiver {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(testSecret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{key: key, hold: hold, events: map[string]event{}, answered: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if r.down.Load() {
		r.refused.Add(1)
		// As if the process were gone: the connection closes unanswered.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for {
		m := r.maxIn.Load()
		if n <= m || r.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	if r.hold != nil {
		<-r.hold
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	id := req.Header.Get("webhook-id")
	if err := r.verify(id, req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body); err != nil {
		r.mu.Lock()
		r.badSigs = append(r.badSigs, id+": "+err.Error())
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var e event
	if err := json.Unmarshal(body, &e); err != nil {
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.events[id] = e
	r.answered[id]++
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// verify is the Standard Webhooks check: a recent timestamp, and one of the
// space-separated "v1,<base64>" signatures equal to HMAC-SHA256 over
// "id.timestamp.body", compared in constant time.
func (r *receiver) verify(id, ts, sigs string, body []byte) error {
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing webhook headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("timestamp %q out of tolerance", ts)
	}
	mac := hmac.New(sha256.New, r.key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no valid signature in %q", sigs)
}

// snapshot returns copies of what was received.
func (r *receiver) snapshot() (events map[string]event, answered map[string]int, badSigs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	events, answered = map[string]event{}, map[string]int{}
	for k, v := range r.events {
		events[k] = v
	}
	for k, v := range r.answered {
		answered[k] = v
	}
	return events, answered, append([]string(nil), r.badSigs...)
}

// clicksBySlug adds up the link.clicked events received, once per
// webhook-id.
func (r *receiver) clicksBySlug() (clicks map[string]int64, previews int64, events int) {
	evs, _, _ := r.snapshot()
	clicks = map[string]int64{}
	for _, e := range evs {
		if e.Type != "link.clicked" {
			continue
		}
		events++
		clicks[e.Data["slug"].(string)] += int64(e.Data["clicks"].(float64))
		previews += int64(e.Data["previews"].(float64))
	}
	return clicks, previews, events
}
