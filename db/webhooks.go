package db

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Webhook event types. link.created and link.deactivated are written by
// triggers on short_links (migration 00009), link.clicked by FlushClicks (flushLinkClickedEvents),
// send.recorded by whoever records a send, through EnqueueWebhook.
const (
	EventLinkClicked     = "link.clicked"
	EventLinkCreated     = "link.created"
	EventLinkDeactivated = "link.deactivated"
	EventSendRecorded    = "send.recorded"
)

// nullTime is nil for the zero time, so SQL can pick a default.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// EnqueueWebhook queues an event of eventType with data (marshalled to a
// JSON object) for every enabled endpoint, inside the transaction q
// belongs to: the event exists exactly when that transaction commits. msgID
// becomes the webhook-id header; make it unique per event and stable for
// the thing it describes (for example "msg_send_" + the send's id), without
// dots. With no endpoint configured it writes nothing.
//
// Inside one statement (no transaction of its own), queue the rows with a
// data-modifying CTE that reads the inserted row, as RecordSend does;
// data-modifying CTEs always run, and an INSERT ... ON CONFLICT DO
// NOTHING that inserted nothing queues nothing:
//
//	WITH s AS (INSERT INTO sends (...) VALUES (...) ON CONFLICT DO NOTHING RETURNING id, ...),
//	     hook AS (INSERT INTO webhook_deliveries (endpoint_id, msg_id, event_type, payload)
//	              SELECT e.id, 'msg_send_' || s.id, 'send.recorded',
//	                     webhook_envelope('send.recorded', now(), jsonb_build_object('send_id', s.id, ...))
//	              FROM s CROSS JOIN webhook_endpoints e WHERE e.enabled)
//	SELECT ... FROM s
func EnqueueWebhook(ctx context.Context, q sqlx.ExecerContext, eventType, msgID string, data any) error {
	body, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("store: webhook %s: %w", eventType, err)
	}
	_, err = q.ExecContext(ctx, `SELECT webhook_enqueue($1, $2, $3::jsonb)`, eventType, msgID, string(body))
	if err != nil {
		return fmt.Errorf("store: enqueue webhook %s: %w", eventType, classify(err))
	}
	return nil
}

// WebhookEndpoint is one configured receiver and its health.
type WebhookEndpoint struct {
	ID                  int64      `db:"id"`
	URL                 string     `db:"url"`
	Enabled             bool       `db:"enabled"`
	ConsecutiveFailures int        `db:"consecutive_failures"`
	FailingSince        *time.Time `db:"failing_since"`
	ProbeAt             *time.Time `db:"probe_at"` // set while suspended
	LastSuccessAt       *time.Time `db:"last_success_at"`
	LastError           string     `db:"last_error"`
	Pending             int64      `db:"pending"`
	Failed              int64      `db:"failed"`
}

// Suspended reports whether the endpoint kept failing and is only probed.
func (e WebhookEndpoint) Suspended() bool { return e.ProbeAt != nil }

// SyncWebhookEndpoints makes urls the enabled endpoints: new ones are added,
// listed ones re-enabled, the others disabled (their history stays and
// nothing more is queued or sent to them). Every instance should run with
// the same WEBHOOK_URLS.
func (s *Store) SyncWebhookEndpoints(ctx context.Context, urls []string) error {
	_, err := s.db.ExecContext(ctx, `WITH listed AS (
			INSERT INTO webhook_endpoints (url) SELECT unnest($1::text[])
			ON CONFLICT (url) DO UPDATE SET enabled = true
			RETURNING id
		)
		UPDATE webhook_endpoints SET enabled = false
		WHERE enabled AND id NOT IN (SELECT id FROM listed)`, pq.Array(urls))
	if err != nil {
		return fmt.Errorf("store: sync webhook endpoints: %w", classify(err))
	}
	return nil
}

// WebhookEndpoints lists every endpoint, enabled first, with the number of
// deliveries waiting and given up.
func (s *Store) WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	var eps []WebhookEndpoint
	// Two small counts per endpoint through the partial indexes, rather
	// than a GROUP BY over the whole delivery log.
	err := s.db.SelectContext(ctx, &eps, `SELECT e.id, e.url, e.enabled, e.consecutive_failures,
			e.failing_since, e.probe_at, e.last_success_at, e.last_error,
			(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending') AS pending,
			(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'failed') AS failed
		FROM webhook_endpoints e
		ORDER BY e.enabled DESC, e.id`)
	if err != nil {
		return nil, fmt.Errorf("store: list webhook endpoints: %w", classify(err))
	}
	return eps, nil
}

// RetryWebhookEndpoint makes every given-up delivery of the endpoint due now
// and lifts its suspension: the operator says it answers again. It returns
// the number of deliveries requeued.
func (s *Store) RetryWebhookEndpoint(ctx context.Context, endpointID int64) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, `WITH ep AS (
			UPDATE webhook_endpoints SET probe_at = NULL, consecutive_failures = 0
			WHERE id = $1
			RETURNING id
		), requeued AS (
			UPDATE webhook_deliveries d SET state = 'pending', next_attempt_at = now()
			FROM ep
			WHERE d.endpoint_id = ep.id AND d.state = 'failed'
			RETURNING d.id
		)
		SELECT CASE WHEN EXISTS (SELECT 1 FROM ep) THEN (SELECT COUNT(*) FROM requeued) ELSE -1 END`, endpointID)
	if err != nil {
		return 0, fmt.Errorf("store: retry webhook endpoint %d: %w", endpointID, classify(err))
	}
	if n < 0 {
		return 0, fmt.Errorf("store: retry webhook endpoint %d: %w", endpointID, ErrNotFound)
	}
	return n, nil
}
