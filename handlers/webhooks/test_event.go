package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// EventTest is the event "Send test event" sends, whatever the endpoint's
// filter.
const EventTest = "webhook.test"

// testBodyKept is how much of a receiver's answer a test shows.
const testBodyKept = 2048

// Tester sends test events straight away, outside the outbox, through the
// same client (and private-address rule) and signing as deliveries, so an
// operator sees at once what the receiver answers.
type Tester struct {
	sender *sender
}

// NewTester returns a Tester configured like the worker.
func NewTester(opts Options) *Tester {
	opts = opts.withDefaults()
	return &Tester{sender: newSender(opts)}
}

// TestResult is what one test event came to.
type TestResult struct {
	WebhookID string        `json:"webhook_id"`
	Delivered bool          `json:"delivered"` // the receiver answered 2xx
	Status    int           `json:"status"`    // 0 when there was no answer
	Error     string        `json:"error"`     // why it failed, when it did
	Response  string        `json:"response"`  // the start of the receiver's answer
	Duration  time.Duration `json:"-"`
}

// Send posts one signed webhook.test event for endpoint ep to its URL.
func (t *Tester) Send(ctx context.Context, ep db.WebhookEndpoint, secrets db.WebhookEndpointSecrets) TestResult {
	var raw [12]byte
	rand.Read(raw[:])
	id := "msg_test_" + hex.EncodeToString(raw[:])
	body, _ := json.Marshal(map[string]any{
		"type":      EventTest,
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		"data":      map[string]any{"endpoint_id": ep.ID, "url": ep.URL, "message": "A test event sent from shortlinks."},
	})
	start := time.Now()
	r, kept := t.sender.post(ctx, ep.URL, id, body, secrets, testBodyKept)
	return TestResult{WebhookID: id, Delivered: r.ok(), Status: r.status, Error: r.err,
		Response: string(kept), Duration: time.Since(start)}
}
