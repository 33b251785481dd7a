package db

import (
	"crypto/rand"
	"encoding/hex"
)

// The IDs this package mints itself, each by a function named for what it
// identifies. All are random (version 4) UUIDs.

// NewBatchID returns the ID of a ClickBatch or a SuspectBatch: a flush
// retried with the same ID is applied once.
func NewBatchID() string { return randomUUID() }

// newImportID returns the ID of a business import (ImportResult.ID),
// which is neither a click batch nor a row of its own.
func newImportID() string { return randomUUID() }

// newRowID returns the primary key of a business or a send, minted before
// the insert so the idempotency key can be claimed with it in the same
// transaction.
func newRowID() string { return randomUUID() }

// randomUUID returns a random (version 4) UUID in its text form.
func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
