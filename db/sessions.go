package db

import (
	"context"
	"fmt"
	"time"
)

// RevokeSession records that the admin session id must not be accepted
// again (a sign-out). Expired records are pruned on the way.
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `WITH pruned AS (DELETE FROM revoked_sessions WHERE expires_at < now())
		INSERT INTO revoked_sessions (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, expires)
	if err != nil {
		return fmt.Errorf("store: revoke session: %w", classify(err))
	}
	return nil
}

// SessionRevoked reports whether the admin session id was signed out.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var revoked bool
	err := s.db.GetContext(ctx, &revoked, `SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE id = $1)`, id)
	if err != nil {
		return false, fmt.Errorf("store: check session: %w", classify(err))
	}
	return revoked, nil
}
