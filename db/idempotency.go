package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// ErrIdempotencyMismatch means an Idempotency-Key was used before with a
// different request (another body, or another endpoint: all endpoints
// share one key space).
var ErrIdempotencyMismatch = errors.New("idempotency key already used for a different request")

// Idempotency is a client's Idempotency-Key and the SHA-256 of the
// canonical request it came with. The zero value means no key.
type Idempotency struct {
	Key         string
	RequestHash []byte
}

// Set reports whether a key was given.
func (i Idempotency) Set() bool { return i.Key != "" }

// Resources an idempotency key can stand for (idempotency_keys.resource),
// also the kinds of request in the handlers' request hashes (changing one
// changes every stored hash of its kind: a retry would then get 422).
const (
	ResourceSend     = "campaign_send"
	ResourceBusiness = "business"
)

// claimKeyCTE is the first step of a create statement: it claims the key
// ($1 key, $2 request hash) for the resource id ($3) about to be inserted,
// and later steps insert only FROM claimed. The primary key is the arbiter:
// of any number of concurrent requests with one key, exactly one claims it;
// the others wait for it to commit, get no row, and read the winner in a
// new statement (replayedKey), whose snapshot includes the winner's rows.
const claimKeyCTE = `claimed AS (
		INSERT INTO idempotency_keys (key, request_hash, resource, resource_id)
		VALUES ($1, $2, %s, $3)
		ON CONFLICT (key) DO NOTHING
		RETURNING resource_id
	)`

func claimKey(resource string) string { return fmt.Sprintf(claimKeyCTE, "'"+resource+"'") }

// replayedKey returns the id of the resource an earlier request created
// with idem's key: ErrNotFound when the key is unused, and
// ErrIdempotencyMismatch when it came with another request.
func (s *Store) replayedKey(ctx context.Context, idem Idempotency, resource string) (string, error) {
	var k struct {
		Hash       []byte `db:"request_hash"`
		Resource   string `db:"resource"`
		ResourceID string `db:"resource_id"`
	}
	err := s.db.GetContext(ctx, &k, `SELECT request_hash, resource, resource_id FROM idempotency_keys WHERE key = $1`, idem.Key)
	if err != nil {
		return "", fmt.Errorf("store: idempotency key: %w", classify(err))
	}
	if k.Resource != resource || !bytes.Equal(k.Hash, idem.RequestHash) {
		return "", fmt.Errorf("store: idempotency key: %w", ErrIdempotencyMismatch)
	}
	return k.ResourceID, nil
}
