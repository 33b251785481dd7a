package db

import (
	"context"
	"fmt"
)

// UpdateBusiness changes a business's name, city and phone and the URL of
// its site (the oldest one, which previews link to), adding a site if it
// has none, in one transaction. Links already made for the old URL stay as
// they are; the next preview links to the new one. ErrNotFound when no
// business has id. nb.SiteURL must be normalized; nb.Status is ignored.
func (s *Store) UpdateBusiness(ctx context.Context, id string, nb NewBusiness) (Business, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Business{}, fmt.Errorf("store: update business: %w", classify(err))
	}
	defer tx.Rollback()
	var old Business
	if err := tx.GetContext(ctx, &old, `SELECT `+businessColumns+` `+businessFrom+` WHERE b.id = $1 FOR UPDATE OF b`, id); err != nil {
		return Business{}, fmt.Errorf("store: update business %s: %w", id, classify(err))
	}
	res, err := tx.ExecContext(ctx, `UPDATE businesses SET name = $2, city = $3, phone = $4 WHERE id = $1`,
		id, nb.Name, nb.City, nb.Phone)
	if err != nil {
		return Business{}, fmt.Errorf("store: update business %s: %w", id, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Business{}, fmt.Errorf("store: update business %s: %w", id, ErrNotFound)
	}
	// The same "oldest site" choice as businessFrom, so the page that
	// shows the business shows the URL written here.
	res, err = tx.ExecContext(ctx, `UPDATE sites SET url = $2 WHERE id = (
			SELECT id FROM sites WHERE business_id = $1 ORDER BY created_at, id LIMIT 1)`, id, nb.SiteURL)
	if err != nil {
		return Business{}, fmt.Errorf("store: update site of %s: %w", id, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err = tx.ExecContext(ctx, `INSERT INTO sites (business_id, url) VALUES ($1, $2)`, id, nb.SiteURL); err != nil {
			return Business{}, fmt.Errorf("store: add site to %s: %w", id, classify(err))
		}
	}
	var b Business
	if err = tx.GetContext(ctx, &b, `SELECT `+businessColumns+` `+businessFrom+` WHERE b.id = $1`, id); err != nil {
		return Business{}, fmt.Errorf("store: read business: %w", classify(err))
	}
	if err := s.audit(ctx, tx, AuditBusinessEdited, "business", id, businessAudit(old), businessAudit(b)); err != nil {
		return Business{}, err
	}
	if err = tx.Commit(); err != nil {
		return Business{}, fmt.Errorf("store: update business: %w", classify(err))
	}
	return b, nil
}
