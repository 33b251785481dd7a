package db

import (
	"context"
	"time"

	"github.com/shortlinks/shortlinks/db/pgtest"
)

// The oracles of the results tests (pgtest): the aggregates over a
// window's sends that every window read before the rollups.

// ResultsFromSends is CampaignResults aggregated from the sends of
// [since, until) (nil: unbounded).
func (s *Store) ResultsFromSends(ctx context.Context, since, until *time.Time) ([]VariantResult, error) {
	var rows []VariantResult
	err := s.db.SelectContext(ctx, &rows, pgtest.ResultsFromSends, since, until)
	return rows, err
}

// ResultsByVersionFromSends is CampaignResultsByVersion aggregated from
// the sends of [since, until).
func (s *Store) ResultsByVersionFromSends(ctx context.Context, since, until *time.Time) ([]VariantResult, error) {
	var rows []VariantResult
	err := s.db.SelectContext(ctx, &rows, pgtest.ResultsByVersionFromSends, since, until)
	return rows, err
}

// VariantBusinessesFromSends is VariantBusinesses aggregated from the
// sends.
func (s *Store) VariantBusinessesFromSends(ctx context.Context, variant string, tappedOnly bool, since, until *time.Time, limit int) ([]VariantBusiness, error) {
	out := []VariantBusiness{}
	err := s.db.SelectContext(ctx, &out, pgtest.VariantBusinessesFromSends, variant, since, until, tappedOnly, limit)
	return out, err
}
