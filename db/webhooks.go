package db

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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

// WebhookEndpoint is one receiver, its settings and its health. Its secret
// is never read back with it (see WebhookEndpointSecret).
type WebhookEndpoint struct {
	ID                  int64          `db:"id"`
	URL                 string         `db:"url"`
	Source              string         `db:"source"` // WebhookSourceAPI or WebhookSourceConfig
	EventTypes          pq.StringArray `db:"event_types"`
	Enabled             bool           `db:"enabled"`
	CreatedAt           time.Time      `db:"created_at"`
	RotatingUntil       *time.Time     `db:"rotating_until"` // the previous secret still signs until then
	ConsecutiveFailures int            `db:"consecutive_failures"`
	FailingSince        *time.Time     `db:"failing_since"`
	ProbeAt             *time.Time     `db:"probe_at"` // set while suspended
	LastSuccessAt       *time.Time     `db:"last_success_at"`
	LastError           string         `db:"last_error"`
	Pending             int64          `db:"pending"`
	OldestPending       *time.Time     `db:"oldest_pending"` // event time of the oldest waiting delivery
	Failed              int64          `db:"failed"`
}

// Suspended reports whether the endpoint kept failing and is only probed.
func (e WebhookEndpoint) Suspended() bool { return e.ProbeAt != nil }

// SyncWebhookEndpoints makes urls the enabled endpoints managed by
// configuration: new ones are added, listed ones re-enabled, the other
// configured ones disabled (their history stays and nothing more is queued
// or sent to them). Endpoints added through the API or the console are left
// alone, and a listed URL that one of them already has stays theirs. Every
// instance should run with the same WEBHOOK_URLS.
func (s *Store) SyncWebhookEndpoints(ctx context.Context, urls []string) error {
	// The arbiter is url's unique constraint; DO UPDATE ... WHERE skips a
	// row the API owns, which RETURNING then leaves out of "listed" too.
	// Start-up work, not a request: the serving statement timeout (which
	// may be set as tight as 20 ms) does not apply to it.
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: sync webhook endpoints: %w", classify(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = '60s'`); err != nil {
		return fmt.Errorf("store: sync webhook endpoints: %w", classify(err))
	}
	_, err = tx.ExecContext(ctx, `WITH listed AS (
			INSERT INTO webhook_endpoints (url, source) SELECT unnest($1::text[]), 'config'
			ON CONFLICT (url) DO UPDATE SET enabled = true WHERE webhook_endpoints.source = 'config'
			RETURNING id
		)
		UPDATE webhook_endpoints SET enabled = false
		WHERE enabled AND source = 'config' AND id NOT IN (SELECT id FROM listed)`, pq.Array(urls))
	if err == nil {
		err = tx.Commit()
	}
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
	err := s.db.SelectContext(ctx, &eps, `SELECT `+endpointColumns+`
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
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: retry webhook endpoint %d: %w", endpointID, classify(err))
	}
	defer tx.Rollback()
	var n int64
	err = tx.GetContext(ctx, &n, `WITH ep AS (
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
	err = s.audit(ctx, tx, AuditWebhookRetried, "webhook_endpoint", strconv.FormatInt(endpointID, 10), nil,
		map[string]any{"requeued": n})
	if err != nil {
		return 0, err
	}
	if err = tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: retry webhook endpoint %d: %w", endpointID, classify(err))
	}
	return n, nil
}
