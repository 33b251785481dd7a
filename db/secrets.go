package db

import (
	"context"
	"fmt"
)

// AppSecret returns the secret stored under name, storing candidate first
// when there is none. Instances booting together may each offer a different
// random candidate; exactly one is kept and all of them return it.
func (s *Store) AppSecret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	// DO NOTHING on the primary key: the first insert wins. A loser's
	// RETURNING is empty, and its own statement's snapshot cannot see a
	// winner that committed meanwhile, so the value is read in a new one.
	_, err := s.db.ExecContext(ctx, `INSERT INTO app_secrets (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING`, name, candidate)
	if err != nil {
		return nil, fmt.Errorf("store: store app secret: %w", classify(err))
	}
	var value []byte
	if err := s.db.GetContext(ctx, &value, `SELECT value FROM app_secrets WHERE name = $1`, name); err != nil {
		return nil, fmt.Errorf("store: read app secret: %w", classify(err))
	}
	return value, nil
}
