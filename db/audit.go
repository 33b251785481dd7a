package db

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
)

// Audit actions. Each names what happened to an object of one type.
const (
	AuditLinkCreated      = "link.created"
	AuditLinkDeactivated  = "link.deactivated"
	AuditLinkReactivated  = "link.reactivated"
	AuditLinkMerged       = "link.merged" // deactivated by a heal, superseded by another
	AuditLinkMoved        = "link.moved"  // its business's site URL changed: superseded by the new URL's link
	AuditHealRun          = "heal.run"
	AuditCheckRun         = "check.run"
	AuditClicksReplayed   = "clicks.replayed" // a click dead letter written by hand (console or CLI)
	AuditTemplateEdited   = "template.edited"
	AuditTemplateReset    = "template.reset"
	AuditBusinessCreated  = "business.created"
	AuditBusinessEdited   = "business.edited"
	AuditBusinessImported = "business.imported" // one row per import: its counts
	AuditBusinessOptedOut = "business.opted_out"
	AuditBusinessOptedIn  = "business.opted_in"
	AuditSendRecorded     = "send.recorded"
	AuditSendVoided       = "send.voided"
	AuditUserInvited      = "user.invited"
	AuditUserRoleChanged  = "user.role_changed"
	AuditUserDisabled     = "user.disabled"
	AuditUserEnabled      = "user.enabled"
	AuditUserResetIssued  = "user.reset_issued"
	AuditUserPasswordSet  = "user.password_set"
	AuditUserBootstrapped = "user.bootstrapped" // ADMIN_USER created or updated at start-up
	AuditKeyCreated       = "key.created"
	AuditKeyRevoked       = "key.revoked"
	AuditWebhookCreated   = "webhook_endpoint.created"
	AuditWebhookEdited    = "webhook_endpoint.edited"
	AuditWebhookDeleted   = "webhook_endpoint.deleted"
	AuditWebhookTested    = "webhook_endpoint.tested"
	AuditWebhookRotated   = "webhook_endpoint.secret_rotated"
	AuditWebhookRetried   = "webhook.retried" // deliveries queued again by hand
	AuditSignIn           = "session.signed_in"
	AuditSignInFailed     = "session.sign_in_failed"
	AuditSessionEnded     = "session.ended"
)

// DefaultAuditRetention is how long audit rows are kept (AUDIT_RETENTION).
const DefaultAuditRetention = 400 * 24 * time.Hour

// AuditEntry is one row of the audit trail.
type AuditEntry struct {
	ID         int64           `db:"id" json:"id"`
	At         time.Time       `db:"at" json:"at"`
	Actor      string          `db:"actor" json:"actor"`
	ActorKind  string          `db:"actor_kind" json:"actor_kind"`
	Action     string          `db:"action" json:"action"`
	ObjectType string          `db:"object_type" json:"object_type"`
	ObjectID   string          `db:"object_id" json:"object_id"`
	Before     json.RawMessage `db:"before" json:"before"`
	After      json.RawMessage `db:"after" json:"after"`
	ClientAddr string          `db:"client_addr" json:"client_addr"`
}

// audit writes one audit row with q, which must be the transaction (or the
// single statement's connection) of the change it records: the row commits
// exactly when the change does. The actor comes from ctx (WithActor);
// before and after are marshalled to JSON (nil: none). Every change path
// in db calls it; see docs/architecture.md ("Audit trail").
func (s *Store) audit(ctx context.Context, q sqlx.ExecerContext, action, objectType, objectID string, before, after any) error {
	a := ActorFrom(ctx)
	b, err := auditJSON(before)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", action, err)
	}
	af, err := auditJSON(after)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", action, err)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO audit_log
		(actor, actor_kind, action, object_type, object_id, before, after, client_addr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.Name, a.Kind, action, objectType, objectID, b, af, a.Client)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", action, classify(err))
	}
	return nil
}

// auditJSON marshals v for a jsonb column; nil stays NULL.
func auditJSON(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// Audit records an event that is not a change of stored data (a failed
// sign-in) on its own.
func (s *Store) Audit(ctx context.Context, action, objectType, objectID string, after any) error {
	return s.audit(ctx, s.db, action, objectType, objectID, nil, after)
}

// AuditFilter selects audit rows; zero values mean "all".
type AuditFilter struct {
	Actor      string
	Action     string
	ObjectType string
	ObjectID   string
	Since      time.Time
	Until      time.Time
	Limit      int     // clamped to 1..1000, default 100
	Cursor     *Cursor // nil: the newest rows
}

// auditOrder is the one order of the audit listing: newest first.
const auditOrder = "audit"

// AuditPage is one page of the trail, newest first; Next is nil on the last.
type AuditPage struct {
	Entries []AuditEntry
	Next    *Cursor
}

// ListAudit returns one page of the rows matching f, newest first. Each
// filter is either unset (an empty value) or an equality an index serves.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	limit := clamp(f.Limit, 1, 1000, 100)
	var after int64
	if f.Cursor != nil {
		if f.Cursor.Order != auditOrder || f.Cursor.Before {
			return AuditPage{}, fmt.Errorf("store: list audit: cursor of another listing: %w", ErrInvalidInput)
		}
		id, err := strconv.ParseInt(f.Cursor.ID, 10, 64)
		if err != nil {
			return AuditPage{}, fmt.Errorf("store: list audit: bad cursor: %w", ErrInvalidInput)
		}
		after = id
	}
	var since, until *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	if !f.Until.IsZero() {
		until = &f.Until
	}
	rows := []AuditEntry{}
	// NULL before/after read as JSON null, which RawMessage can hold.
	err := s.db.SelectContext(ctx, &rows, `SELECT id, at, actor, actor_kind, action, object_type, object_id,
			COALESCE(before, 'null') AS before, COALESCE(after, 'null') AS after, client_addr
		FROM audit_log
		WHERE ($1 = 0 OR id < $1)
		  AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3)
		  AND ($4 = '' OR object_type = $4) AND ($5 = '' OR object_id = $5)
		  AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)
		ORDER BY id DESC
		LIMIT $8`, after, f.Actor, f.Action, f.ObjectType, f.ObjectID, since, until, limit+1)
	if err != nil {
		return AuditPage{}, fmt.Errorf("store: list audit: %w", classify(err))
	}
	page := AuditPage{Entries: rows[:min(len(rows), limit)]}
	if len(rows) > limit {
		page.Next = &Cursor{Order: auditOrder, ID: strconv.FormatInt(page.Entries[limit-1].ID, 10)}
	}
	return page, nil
}

// AuditActions lists every action, for the Audit page's filter.
var AuditActions = []string{
	AuditLinkCreated, AuditLinkDeactivated, AuditLinkReactivated, AuditLinkMerged, AuditLinkMoved, AuditHealRun,
	AuditCheckRun, AuditClicksReplayed,
	AuditTemplateEdited, AuditTemplateReset, AuditBusinessCreated, AuditBusinessEdited, AuditBusinessImported,
	AuditBusinessOptedOut, AuditBusinessOptedIn,
	AuditSendRecorded, AuditSendVoided, AuditUserInvited, AuditUserRoleChanged, AuditUserDisabled,
	AuditUserEnabled, AuditUserResetIssued, AuditUserPasswordSet, AuditUserBootstrapped, AuditKeyCreated,
	AuditKeyRevoked, AuditSignIn, AuditSignInFailed, AuditSessionEnded,
	AuditWebhookCreated, AuditWebhookEdited, AuditWebhookDeleted, AuditWebhookTested, AuditWebhookRotated,
	AuditWebhookRetried,
}

// PruneAudit deletes audit rows older than retention, a batch at a time so
// no statement holds many row locks or runs long; it returns how many went.
func (s *Store) PruneAudit(ctx context.Context, retention time.Duration) (int64, error) {
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, `DELETE FROM audit_log WHERE id IN (
				SELECT id FROM audit_log WHERE at < now() - $1 * interval '1 second' LIMIT 5000)`,
			int64(retention.Seconds()))
		if err != nil {
			return total, fmt.Errorf("store: prune audit: %w", classify(err))
		}
		n, _ := res.RowsAffected()
		total += n
		if n < 5000 {
			return total, nil
		}
	}
}
