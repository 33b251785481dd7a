package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// userAgent names the sender to receivers.
const userAgent = "shortlinks-webhooks/1"

// sender makes one signed attempt of a delivery.
type sender struct {
	client *http.Client
	secret Secret
}

func newSender(o Options) *sender {
	return &sender{client: newClient(o.Timeout, o.Concurrency, o.AllowPrivate), secret: o.Secret}
}

// secrets are the keys a delivery is signed with: the endpoint's own (and
// its previous one during a rotation), or WEBHOOK_SECRET for a configured
// endpoint.
func (s *sender) secrets(es db.WebhookEndpointSecrets) ([]Secret, error) {
	if es.Current == "" {
		if len(s.secret) == 0 {
			return nil, errors.New("no secret to sign with: WEBHOOK_SECRET is not set")
		}
		return []Secret{s.secret}, nil
	}
	out := make([]Secret, 0, 2)
	for _, raw := range []string{es.Current, es.Previous} {
		if raw == "" {
			continue
		}
		key, err := ParseSecret(raw)
		if err != nil {
			return nil, fmt.Errorf("the endpoint's stored secret is unusable: %w", err)
		}
		out = append(out, key)
	}
	return out, nil
}

// result is what one attempt came to.
type result struct {
	status     int           // 0: no answer
	err        string        // why it failed, for the delivery log
	retryAfter time.Duration // the receiver's Retry-After, if any
}

func (r result) ok() bool   { return r.status >= 200 && r.status <= 299 }
func (r result) gone() bool { return r.status == http.StatusGone }

// send POSTs d's payload with the Standard Webhooks headers. The timestamp
// and signature are fresh on every attempt; the webhook-id and the body
// never change.
func (s *sender) send(ctx context.Context, d db.WebhookDelivery) result {
	r, _ := s.post(ctx, d.URL, d.MsgID, []byte(d.Payload), d.WebhookEndpointSecrets, 0)
	return r
}

// post makes one signed request and returns its result and up to keep
// bytes of the answer's body.
func (s *sender) post(ctx context.Context, url, msgID string, body []byte, es db.WebhookEndpointSecrets, keep int64) (result, []byte) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return result{err: "invalid URL: " + err.Error()}, nil
	}
	secrets, err := s.secrets(es)
	if err != nil {
		return result{err: err.Error()}, nil
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Signatures(msgID, ts, body, secrets...))
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivate) {
			return result{err: "refused: " + err.Error()}, nil
		}
		return result{err: err.Error()}, nil
	}
	kept, _ := io.ReadAll(io.LimitReader(resp.Body, keep))
	// Reading a little of the body lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	r := result{status: resp.StatusCode}
	if !r.ok() {
		r.err = "HTTP " + resp.Status
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			r.retryAfter = time.Duration(secs) * time.Second
		}
	}
	return r, kept
}

// retryDelay is the wait before the attempt after the given one (1-based):
// base, tripled per attempt up to max, with jitter taking up to half of it
// away so that receivers recovering from an outage are not hit in step. A
// receiver's Retry-After is honoured up to max.
func retryDelay(attempt int, base, max time.Duration, retryAfter time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 3
	}
	d = min(d, max)
	d = d/2 + rand.N(d/2+1)
	if retryAfter > d {
		d = min(retryAfter, max)
	}
	return d
}
