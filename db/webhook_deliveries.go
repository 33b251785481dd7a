package db

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/lib/pq"
)

// Webhook delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // given up; "retry now" makes it pending again
)

// WebhookDelivery is one event for one endpoint: what the worker sends and
// what the admin log shows.
type WebhookDelivery struct {
	ID            int64      `db:"id"`
	EndpointID    int64      `db:"endpoint_id"`
	URL           string     `db:"url"`
	MsgID         string     `db:"msg_id"`
	EventType     string     `db:"event_type"`
	Payload       string     `db:"payload"` // the exact body sent, every attempt
	CreatedAt     time.Time  `db:"created_at"`
	State         string     `db:"state"`
	Attempts      int        `db:"attempts"`
	NextAttemptAt time.Time  `db:"next_attempt_at"`
	LastAttemptAt *time.Time `db:"last_attempt_at"`
	LastStatus    *int       `db:"last_status"`
	LastError     string     `db:"last_error"`
	DeliveredAt   *time.Time `db:"delivered_at"`
	// The endpoint's secrets when leased (see WebhookEndpointSecrets):
	// empty for a configured endpoint, which signs with WEBHOOK_SECRET.
	WebhookEndpointSecrets
}

const deliveryColumns = `d.id, d.endpoint_id, e.url, d.msg_id, d.event_type, d.payload::text AS payload,
	d.created_at, d.state, d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_status,
	d.last_error, d.delivered_at, COALESCE(e.secret, '') AS secret,
	CASE WHEN e.previous_secret_expires_at > now() THEN COALESCE(e.previous_secret, '') ELSE '' END AS previous_secret`

// LeaseWebhookDeliveries takes up to n due deliveries of endpoints that are
// not suspended, oldest first. Leasing sets each row's leased_until and
// counts the attempt, so no other worker, here or in another instance,
// takes it meanwhile; SKIP LOCKED lets concurrent leases pass each other
// instead of queueing on the same rows. A worker that dies leaves its rows
// to be taken again when the lease runs out.
func (s *Store) LeaseWebhookDeliveries(ctx context.Context, n int, lease time.Duration) ([]WebhookDelivery, error) {
	var ds []WebhookDelivery
	err := s.db.SelectContext(ctx, &ds, `WITH due AS (
			SELECT d.id FROM webhook_deliveries d
			JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.state = 'pending' AND d.next_attempt_at <= now()
			  AND (d.leased_until IS NULL OR d.leased_until <= now())
			  AND e.enabled AND e.probe_at IS NULL
			ORDER BY d.next_attempt_at
			LIMIT $1
			FOR UPDATE OF d SKIP LOCKED
		)
		UPDATE webhook_deliveries d
		SET attempts = d.attempts + 1, leased_until = now() + $2 * interval '1 millisecond'
		FROM due, webhook_endpoints e
		WHERE d.id = due.id AND e.id = d.endpoint_id
		RETURNING `+deliveryColumns, n, lease.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("store: lease webhook deliveries: %w", classify(err))
	}
	return ds, nil
}

// LeaseWebhookProbes takes, for each suspended endpoint whose probe is due,
// its oldest pending delivery not leased, due or not (the point is to learn
// whether the endpoint answers again), and moves the endpoint's next probe
// to every from now. Only one instance wins each probe: the endpoint row is
// updated, and a second worker re-checks probe_at after waiting on it.
func (s *Store) LeaseWebhookProbes(ctx context.Context, every, lease time.Duration) ([]WebhookDelivery, error) {
	var ds []WebhookDelivery
	err := s.db.SelectContext(ctx, &ds, `WITH probe AS (
			UPDATE webhook_endpoints SET probe_at = now() + $1 * interval '1 millisecond'
			WHERE enabled AND probe_at <= now()
			RETURNING id
		), due AS (
			SELECT p.id AS pid FROM probe,
			LATERAL (SELECT d.id FROM webhook_deliveries d
			         WHERE d.endpoint_id = probe.id AND d.state = 'pending'
			           AND (d.leased_until IS NULL OR d.leased_until <= now())
			         ORDER BY d.next_attempt_at
			         LIMIT 1
			         FOR UPDATE SKIP LOCKED) p
		)
		UPDATE webhook_deliveries d
		SET attempts = d.attempts + 1, leased_until = now() + $2 * interval '1 millisecond'
		FROM due, webhook_endpoints e
		WHERE d.id = due.pid AND e.id = d.endpoint_id
		RETURNING `+deliveryColumns, every.Milliseconds(), lease.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("store: lease webhook probes: %w", classify(err))
	}
	return ds, nil
}

// Acknowledged is one attempt that an endpoint answered with a 2xx.
type Acknowledged struct {
	Delivery WebhookDelivery
	Status   int
}

// WebhooksDelivered records a batch of acknowledged attempts in one
// statement. A result for a lease that has since been taken over (attempts
// moved on) changes nothing on its delivery. An endpoint that was failing or
// suspended is healthy again, and its waiting deliveries are all due at once
// rather than at their backed-off times.
func (s *Store) WebhooksDelivered(ctx context.Context, acks []Acknowledged) error {
	if len(acks) == 0 {
		return nil
	}
	ids, attempts, statuses, endpoints := make([]int64, len(acks)), make([]int64, len(acks)), make([]int64, len(acks)), make([]int64, len(acks))
	for i, a := range acks {
		ids[i], attempts[i], statuses[i], endpoints[i] = a.Delivery.ID, int64(a.Delivery.Attempts), int64(a.Status), a.Delivery.EndpointID
	}
	// The endpoint rows are written only when their state changes, or once
	// a second for last_success_at (every worker of every instance writing
	// them per delivery would queue on their row locks), and locked in id
	// order so that two instances never deadlock on them.
	_, err := s.db.ExecContext(ctx, `WITH acked AS (
			SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[]) AS a(id, attempts, status)
		), delivered AS (
			UPDATE webhook_deliveries d
			SET state = 'delivered', delivered_at = now(), last_attempt_at = now(),
			    last_status = a.status, last_error = '', leased_until = NULL
			FROM acked a
			WHERE d.id = a.id AND d.attempts = a.attempts AND d.state = 'pending'
		), recovering AS (
			SELECT id FROM webhook_endpoints
			WHERE id = ANY($4::bigint[]) AND (consecutive_failures > 0 OR probe_at IS NOT NULL)
		), catch_up AS (
			UPDATE webhook_deliveries SET next_attempt_at = now()
			WHERE endpoint_id IN (SELECT id FROM recovering) AND state = 'pending'
			  AND next_attempt_at > now() AND id <> ALL($1::bigint[])
		), stale AS (
			SELECT id FROM webhook_endpoints
			WHERE id = ANY($4::bigint[]) AND (consecutive_failures > 0 OR probe_at IS NOT NULL
			    OR last_success_at IS NULL OR last_success_at < now() - interval '1 second')
			ORDER BY id
			FOR NO KEY UPDATE
		)
		UPDATE webhook_endpoints e
		SET consecutive_failures = 0, failing_since = NULL, probe_at = NULL,
		    last_success_at = now(), last_error = ''
		FROM stale WHERE e.id = stale.id`,
		pq.Array(ids), pq.Array(attempts), pq.Array(statuses), pq.Array(endpoints))
	if err != nil {
		return fmt.Errorf("store: record %d webhook deliveries: %w", len(acks), classify(err))
	}
	return nil
}

// WebhookFailure is the outcome of a failed attempt.
type WebhookFailure struct {
	Status  int    // HTTP status; 0 when there was no answer
	Error   string // what went wrong, for the admin log
	RetryAt time.Time
	// Suspend marks the endpoint suspended now (it answered 410 Gone);
	// otherwise it is after SuspendAfter consecutive failures.
	Suspend      bool
	SuspendAfter int
	ProbeEvery   time.Duration // when a suspended endpoint is tried again
	// RetryFor is how long after its event a delivery is retried; past it
	// a failed delivery is given up (state failed). A suspended endpoint's
	// pending deliveries older than that are given up with it.
	RetryFor time.Duration
}

// WebhookFailed records a failed attempt of d: the delivery is retried at
// f.RetryAt or given up, and the endpoint's failure count grows.
func (s *Store) WebhookFailed(ctx context.Context, d WebhookDelivery, f WebhookFailure) error {
	var status *int
	if f.Status != 0 {
		status = &f.Status
	}
	_, err := s.db.ExecContext(ctx, `WITH ep AS (
			UPDATE webhook_endpoints
			SET consecutive_failures = consecutive_failures + 1,
			    failing_since = COALESCE(failing_since, now()),
			    last_error = $5,
			    probe_at = CASE WHEN $6 OR consecutive_failures + 1 >= $7
			               THEN GREATEST(probe_at, now() + $8 * interval '1 millisecond') ELSE probe_at END
			WHERE id = $4
			RETURNING failing_since
		), retried AS (
			UPDATE webhook_deliveries
			SET last_attempt_at = now(), last_status = $3, last_error = $5, next_attempt_at = $9,
			    leased_until = NULL,
			    state = CASE WHEN created_at < now() - $10 * interval '1 millisecond'
			            THEN 'failed' ELSE 'pending' END
			WHERE id = $1 AND attempts = $2 AND state = 'pending'
		)
		UPDATE webhook_deliveries
		SET state = 'failed', last_error = 'given up: the endpoint kept failing for longer than events are retried'
		WHERE endpoint_id = $4 AND state = 'pending' AND id <> $1
		  AND (leased_until IS NULL OR leased_until <= now()) -- in flight: its own result decides
		  AND created_at < now() - $10 * interval '1 millisecond'
		  AND EXISTS (SELECT 1 FROM ep WHERE failing_since < now() - $10 * interval '1 millisecond')`,
		d.ID, d.Attempts, status, d.EndpointID, truncateText(f.Error, 500), f.Suspend, f.SuspendAfter,
		f.ProbeEvery.Milliseconds(), f.RetryAt, f.RetryFor.Milliseconds())
	if err != nil {
		return fmt.Errorf("store: record webhook failure: %w", classify(err))
	}
	return nil
}

// DeliveryFilter selects deliveries for the admin log.
type DeliveryFilter struct {
	State      string // "" for every state
	EndpointID int64  // 0 for every endpoint
	Limit      int
}

// WebhookDeliveries lists deliveries newest first.
func (s *Store) WebhookDeliveries(ctx context.Context, f DeliveryFilter) ([]WebhookDelivery, error) {
	var ds []WebhookDelivery
	err := s.db.SelectContext(ctx, &ds, `SELECT `+deliveryColumns+`
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE ($1 = '' OR d.state = $1) AND ($2 = 0 OR d.endpoint_id = $2)
		ORDER BY d.id DESC
		LIMIT $3`, f.State, f.EndpointID, max(f.Limit, 1))
	if err != nil {
		return nil, fmt.Errorf("store: list webhook deliveries: %w", classify(err))
	}
	return ds, nil
}

// RetryWebhookDelivery makes one delivery due now, whatever its state, and
// lifts its endpoint's suspension so it is really tried.
func (s *Store) RetryWebhookDelivery(ctx context.Context, id int64) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: retry webhook delivery %d: %w", id, classify(err))
	}
	defer tx.Rollback()
	var found bool
	err = tx.GetContext(ctx, &found, `WITH d AS (
			UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now()
			WHERE id = $1
			RETURNING endpoint_id
		), ep AS (
			UPDATE webhook_endpoints e SET probe_at = NULL, consecutive_failures = 0
			FROM d WHERE e.id = d.endpoint_id AND e.probe_at IS NOT NULL
		)
		SELECT EXISTS (SELECT 1 FROM d)`, id)
	if err == nil && !found {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: retry webhook delivery %d: %w", id, classify(err))
	}
	if err = s.audit(ctx, tx, AuditWebhookRetried, "webhook_delivery", strconv.FormatInt(id, 10), nil, nil); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("store: retry webhook delivery %d: %w", id, classify(err))
	}
	return nil
}

// PruneWebhookDeliveries deletes, at most limit at a time, delivered rows
// created before delivered and given-up rows created before failed. Pending
// rows are never pruned.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, delivered, failed time.Time, limit int) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE id IN (
			SELECT id FROM webhook_deliveries
			WHERE state <> 'pending'
			  AND created_at < GREATEST($1::timestamptz, $2::timestamptz)
			  AND created_at < CASE WHEN state = 'delivered' THEN $1::timestamptz ELSE $2::timestamptz END
			LIMIT $3)`, delivered, failed, limit)
	if err != nil {
		return 0, fmt.Errorf("store: prune webhook deliveries: %w", classify(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // not in the middle of a UTF-8 sequence
		n--
	}
	return s[:n]
}
