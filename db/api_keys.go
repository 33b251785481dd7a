package db

import (
	"context"
	"fmt"
	"time"
)

// APIKey is a named API key as lists show it; the key itself is never
// stored, only its hash.
type APIKey struct {
	ID         int64      `db:"id"`
	Name       string     `db:"name"`
	Hint       string     `db:"hint"`
	Role       string     `db:"role"`
	UserID     *int64     `db:"user_id"`
	Owner      *string    `db:"owner"` // the owner's email
	CreatedBy  string     `db:"created_by"`
	CreatedAt  time.Time  `db:"created_at"`
	ExpiresAt  *time.Time `db:"expires_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

// KeyIdentity is a usable key with its owner's current role (nil for a
// key without owner), for the caller to cap the key's role with.
type KeyIdentity struct {
	APIKey
	OwnerRole *string `db:"owner_role"`
}

const apiKeyColumns = `k.id, k.name, k.hint, k.role, k.user_id, u.email AS owner, k.created_by, k.created_at,
	k.expires_at, k.last_used_at, k.revoked_at`

// NewAPIKey is a key to store. The caller checks Role against the
// creator's and hands the key to its creator once.
type NewAPIKey struct {
	Name      string
	Role      string
	UserID    *int64 // the owner; nil for the CLI's keys
	ExpiresAt *time.Time
	Hash      []byte
	Hint      string
}

// CreateAPIKey stores a key with its audit row. ErrConflict when a live
// key has the name.
func (s *Store) CreateAPIKey(ctx context.Context, nk NewAPIKey) (APIKey, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return APIKey{}, fmt.Errorf("store: create key: %w", classify(err))
	}
	defer tx.Rollback()
	var k APIKey
	err = tx.GetContext(ctx, &k, `WITH k AS (
			INSERT INTO api_keys (name, key_hash, hint, role, user_id, created_by, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *)
		SELECT `+apiKeyColumns+` FROM k LEFT JOIN users u ON u.id = k.user_id`,
		nk.Name, nk.Hash, nk.Hint, nk.Role, nk.UserID, createdBy(ctx), nk.ExpiresAt)
	if isUniqueViolation(err, "api_keys_live_name_key") {
		return APIKey{}, fmt.Errorf("store: create key: a key named %q exists: %w", nk.Name, ErrConflict)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("store: create key: %w", classify(err))
	}
	if err := s.audit(ctx, tx, AuditKeyCreated, "key", k.Name, nil, keyAudit(k)); err != nil {
		return APIKey{}, err
	}
	if err := tx.Commit(); err != nil {
		return APIKey{}, fmt.Errorf("store: create key: %w", classify(err))
	}
	return k, nil
}

func keyAudit(k APIKey) map[string]any {
	return map[string]any{"name": k.Name, "role": k.Role, "owner": k.Owner, "expires_at": k.ExpiresAt}
}

// KeyByHash returns the usable key whose hash is hash: not revoked, not
// expired, and not owned by a disabled user. One index probe per request,
// so a revocation holds on every instance at the next request.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (KeyIdentity, error) {
	var k KeyIdentity
	err := s.db.GetContext(ctx, &k, `SELECT `+apiKeyColumns+`, u.role AS owner_role
		FROM api_keys k LEFT JOIN users u ON u.id = k.user_id
		WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
		  AND (u.id IS NULL OR NOT u.disabled)`, hash)
	if err != nil {
		return KeyIdentity{}, fmt.Errorf("store: key: %w", classify(err))
	}
	return k, nil
}

// TouchAPIKey records that a key was used, at most once a minute.
func (s *Store) TouchAPIKey(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = now()
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, id)
	if err != nil {
		return fmt.Errorf("store: touch key: %w", classify(err))
	}
	return nil
}

// ListAPIKeys returns the live keys of userID (0: every key), newest first.
func (s *Store) ListAPIKeys(ctx context.Context, userID int64) ([]APIKey, error) {
	keys := []APIKey{}
	err := s.db.SelectContext(ctx, &keys, `SELECT `+apiKeyColumns+`
		FROM api_keys k LEFT JOIN users u ON u.id = k.user_id
		WHERE k.revoked_at IS NULL AND ($1 = 0 OR k.user_id = $1)
		ORDER BY k.created_at DESC, k.id DESC LIMIT 1000`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: list keys: %w", classify(err))
	}
	return keys, nil
}

// RevokeAPIKey revokes the live key with id, only if owned by ownerID
// unless ownerID is 0, with its audit row. ErrNotFound when there is none.
func (s *Store) RevokeAPIKey(ctx context.Context, id, ownerID int64) (APIKey, error) {
	return s.revokeKey(ctx, `WITH k AS (
			UPDATE api_keys k SET revoked_at = now()
			WHERE k.revoked_at IS NULL AND k.id = $1 AND ($2 = 0 OR k.user_id = $2) RETURNING k.*)
		SELECT `+apiKeyColumns+` FROM k LEFT JOIN users u ON u.id = k.user_id`, id, ownerID)
}

// RevokeAPIKeyByName revokes the live key called name (the CLI's way).
func (s *Store) RevokeAPIKeyByName(ctx context.Context, name string) (APIKey, error) {
	return s.revokeKey(ctx, `WITH k AS (
			UPDATE api_keys k SET revoked_at = now()
			WHERE k.revoked_at IS NULL AND k.name = $1 RETURNING k.*)
		SELECT `+apiKeyColumns+` FROM k LEFT JOIN users u ON u.id = k.user_id`, name)
}

// revokeKey runs one of the two revoking statements above and writes the
// audit row in the same transaction.
func (s *Store) revokeKey(ctx context.Context, revoke string, args ...any) (APIKey, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return APIKey{}, fmt.Errorf("store: revoke key: %w", classify(err))
	}
	defer tx.Rollback()
	var k APIKey
	err = tx.GetContext(ctx, &k, revoke, args...)
	if err != nil {
		return APIKey{}, fmt.Errorf("store: revoke key: %w", classify(err))
	}
	if err := s.audit(ctx, tx, AuditKeyRevoked, "key", k.Name, keyAudit(k), map[string]any{"revoked_at": k.RevokedAt}); err != nil {
		return APIKey{}, err
	}
	if err := tx.Commit(); err != nil {
		return APIKey{}, fmt.Errorf("store: revoke key: %w", classify(err))
	}
	return k, nil
}
