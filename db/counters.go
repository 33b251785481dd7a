package db

import (
	"context"
	"fmt"
	"sync"
)

// conflictsCounter is the store_counters row holding the persisted total of
// get-or-create races resolved by the conflict path.
const conflictsCounter = "conflicts_resolved"

// persistedCounters tracks how much of the in-memory conflict count has
// been added to store_counters. Its lock makes a flush and a reading of
// "persisted + not yet flushed" exclusive, so a total is never counted
// twice or missed while a flush is in flight.
type persistedCounters struct {
	mu               sync.RWMutex
	conflictsFlushed int64
}

// FlushCounters adds the conflicts resolved since the last flush to the
// persisted total. A failed flush keeps the delta for the next one. Every
// instance flushes its own delta, so the total is right with many instances.
func (s *Store) FlushCounters(ctx context.Context) error {
	s.persisted.mu.Lock()
	defer s.persisted.mu.Unlock()
	delta := s.conflictsResolved.Load() - s.persisted.conflictsFlushed
	if delta == 0 {
		return nil
	}
	// An upsert, so a deleted row comes back rather than losing counts.
	_, err := s.db.ExecContext(ctx, `INSERT INTO store_counters (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = store_counters.value + EXCLUDED.value`,
		conflictsCounter, delta)
	if err != nil {
		return fmt.Errorf("store: flush counters: %w", classify(err))
	}
	s.persisted.conflictsFlushed += delta
	return nil
}

// ConflictsTotal returns the get-or-create races resolved by the conflict
// path over the database's life: what every instance has persisted plus
// this process's share not flushed yet.
func (s *Store) ConflictsTotal(ctx context.Context) (int64, error) {
	// Held for reading, so no flush lands between reading the persisted
	// total and adding the unflushed part.
	s.persisted.mu.RLock()
	defer s.persisted.mu.RUnlock()
	var persisted int64
	err := s.db.GetContext(ctx, &persisted, `SELECT COALESCE(
		(SELECT value FROM store_counters WHERE name = $1), 0)`, conflictsCounter)
	if err != nil {
		return 0, fmt.Errorf("store: conflicts total: %w", classify(err))
	}
	return persisted + s.conflictsResolved.Load() - s.persisted.conflictsFlushed, nil
}
