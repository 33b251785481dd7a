package db

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// UpdateBusiness changes a business's name, city and phone and the URL of
// its site (the oldest one, which previews link to), adding a site if it
// has none, in one transaction. When the URL changes, the business's
// links move with it (moveSiteLink): every SMS already sent keeps working
// and lands on the new site. ErrNotFound when no business has id.
// nb.SiteURL must be normalized; nb.Status is ignored.
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
	// shows the business shows the URL written here. The self-join reads
	// the URL before the update.
	var changed []siteChange
	err = tx.SelectContext(ctx, &changed, `UPDATE sites s SET url = $2
		FROM sites old
		WHERE old.id = s.id AND s.id = (
			SELECT id FROM sites WHERE business_id = $1 ORDER BY created_at, id LIMIT 1)
		RETURNING s.business_id::text, s.id::text AS site_id, old.url AS old_url, s.url AS new_url`, id, nb.SiteURL)
	if err != nil {
		return Business{}, fmt.Errorf("store: update site of %s: %w", id, classify(err))
	}
	if len(changed) == 0 {
		if _, err = tx.ExecContext(ctx, `INSERT INTO sites (business_id, url) VALUES ($1, $2)`, id, nb.SiteURL); err != nil {
			return Business{}, fmt.Errorf("store: add site to %s: %w", id, classify(err))
		}
	}
	for _, c := range changed {
		if err = s.moveSiteLink(ctx, tx, c); err != nil {
			return Business{}, err
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

// siteChange is a site whose URL an edit or an import changed.
type siteChange struct {
	BusinessID string `db:"business_id"`
	SiteID     string `db:"site_id"`
	OldURL     string `db:"old_url"`
	NewURL     string `db:"new_url"`
}

// moveSiteLink makes the active link for the new URL the business's link
// and marks the old URL's active link superseded_by it, so its slug
// redirects to the new site and its taps count on the new link (as a
// healed duplicate's do). Links the old link had absorbed move with it,
// keeping supersession one level deep as the redirect and flush read it.
// Nothing moves when another business still has the old URL: the link is
// theirs too. Runs in the caller's transaction; the old link is locked
// first, then the new one is found or made.
func (s *Store) moveSiteLink(ctx context.Context, tx *sqlx.Tx, c siteChange) error {
	if c.OldURL == c.NewURL {
		return nil
	}
	var olds []struct {
		ID   int64  `db:"id"`
		Slug string `db:"slug"`
	}
	err := tx.SelectContext(ctx, &olds, `SELECT l.id, l.slug FROM short_links l
		WHERE l.destination_hash = short_links_url_hash($1) AND l.destination_url = $1
		  AND l.link_type = $2 AND l.is_active
		  AND NOT EXISTS (SELECT 1 FROM sites o
		                  WHERE short_links_url_hash(o.url) = short_links_url_hash($1) AND o.url = $1
		                    AND o.business_id <> $3::uuid)
		FOR UPDATE OF l`, c.OldURL, LinkTypeSitePreview, c.BusinessID)
	if err != nil {
		return fmt.Errorf("store: move link of %s: %w", c.BusinessID, classify(err))
	}
	if len(olds) == 0 {
		return nil
	}
	newID, err := s.activeLinkInTx(ctx, tx, LinkRequest{DestinationURL: c.NewURL, LinkType: LinkTypeSitePreview,
		BusinessID: &c.BusinessID, SiteID: &c.SiteID})
	if err != nil {
		return err
	}
	// Flatten first (links merged into the old one now point at the new
	// one), then retire the old link into the new one; the change trigger
	// tells every redirect cache about both.
	_, err = tx.ExecContext(ctx, `UPDATE short_links SET superseded_by = $2, updated_at = clock_timestamp()
		WHERE superseded_by = $1`, olds[0].ID, newID)
	if err != nil {
		return fmt.Errorf("store: move link of %s: %w", c.BusinessID, classify(err))
	}
	var newSlug string
	err = tx.GetContext(ctx, &newSlug, `WITH retired AS (
			UPDATE short_links SET is_active = false, superseded_by = $2, updated_at = clock_timestamp()
			WHERE id = $1)
		SELECT slug FROM short_links WHERE id = $2`, olds[0].ID, newID)
	if err != nil {
		return fmt.Errorf("store: move link of %s: %w", c.BusinessID, classify(err))
	}
	return s.audit(ctx, tx, AuditLinkMoved, "link", olds[0].Slug,
		map[string]any{"is_active": true, "destination_url": c.OldURL},
		map[string]any{"is_active": false, "superseded_by": newSlug, "destination_url": c.NewURL})
}

// activeLinkInTx is GetOrCreateLink inside a transaction, returning the
// id. A unique violation would abort the transaction, so the insert has
// no arbiter: DO NOTHING swallows a slug collision and a concurrent active
// link alike, and the next statement tells which (READ COMMITTED: it sees
// a winner that committed while the insert waited).
func (s *Store) activeLinkInTx(ctx context.Context, tx *sqlx.Tx, req LinkRequest) (int64, error) {
	for range maxSlugAttempts {
		var ids []int64
		err := tx.SelectContext(ctx, &ids, `SELECT id FROM short_links
			WHERE destination_hash = short_links_url_hash($1) AND destination_url = $1 AND link_type = $2 AND is_active`,
			req.DestinationURL, req.LinkType)
		if err != nil {
			return 0, fmt.Errorf("store: find active link: %w", classify(err))
		}
		if len(ids) > 0 {
			return ids[0], nil
		}
		slug, err := s.newSlug()
		if err != nil {
			return 0, fmt.Errorf("store: generate slug: %w", err)
		}
		err = tx.SelectContext(ctx, &ids, `INSERT INTO short_links (slug, destination_url, link_type, business_id, site_id, created_by)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING
			RETURNING id`, slug, req.DestinationURL, req.LinkType, req.BusinessID, req.SiteID, createdBy(ctx))
		if err != nil {
			return 0, fmt.Errorf("store: insert link: %w", classify(err))
		}
		if len(ids) > 0 {
			s.linksCreated.Add(1)
			return ids[0], s.auditLinkCreated(ctx, tx, slug, req)
		}
	}
	return 0, fmt.Errorf("store: insert link: %d slug collisions in a row", maxSlugAttempts)
}

// ContactClash is another business that already has a phone or site URL
// being entered.
type ContactClash struct {
	Field      string `db:"field"` // "phone" or "site_url"
	BusinessID string `db:"business_id"`
	Name       string `db:"name"`
}

// ContactClashes lists the businesses other than exceptID ("" for none)
// that have phone (ignored when "") or siteURL, so adding the same
// business twice can be warned about by name. At most a few per field.
func (s *Store) ContactClashes(ctx context.Context, phone, siteURL, exceptID string) ([]ContactClash, error) {
	out := []ContactClash{}
	err := s.db.SelectContext(ctx, &out, `(SELECT 'phone' AS field, b.id::text AS business_id, b.name FROM businesses b
			WHERE $1 <> '' AND b.phone = $1 AND b.id::text <> $3 ORDER BY b.created_at LIMIT 3)
		UNION ALL
		(SELECT 'site_url', b.id::text, b.name FROM sites s JOIN businesses b ON b.id = s.business_id
			WHERE short_links_url_hash(s.url) = short_links_url_hash($2) AND s.url = $2 AND b.id::text <> $3
			ORDER BY b.created_at LIMIT 3)`, phone, siteURL, exceptID)
	if err != nil {
		return nil, fmt.Errorf("store: contact clashes: %w", classify(err))
	}
	return out, nil
}
