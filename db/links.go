package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// LinkTypeSitePreview is the link type of the link a campaign message
// embeds: it points at the business's site.
const LinkTypeSitePreview = "site_preview"

// UniqueIndexName is the partial unique index (migration 00012) that
// enforces one active link per (destination, link type).
const UniqueIndexName = "short_links_one_active_idx"

// createUniqueIndex builds UniqueIndexName exactly as migration 00012 does;
// Heal runs it last.
const createUniqueIndex = `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ` + UniqueIndexName + `
	ON short_links (destination_hash, link_type) WHERE is_active`

// Link is one row of short_links.
type Link struct {
	ID             int64     `db:"id"`
	Slug           string    `db:"slug"`
	DestinationURL string    `db:"destination_url"`
	LinkType       string    `db:"link_type"`
	BusinessID     *string   `db:"business_id"`
	SiteID         *string   `db:"site_id"`
	IsActive       bool      `db:"is_active"`
	ClickCount     int64     `db:"click_count"`
	PreviewCount   int64     `db:"preview_count"`
	CreatedAt      time.Time `db:"created_at"`
	UpdatedAt      time.Time `db:"updated_at"`
	// SupersededBy is the slug of the link this one was merged into when
	// duplicates were healed; nil for active and retired links. Only
	// FindBySlug and the state changes read it (and ForwardedClicks).
	SupersededBy *string `db:"superseded_by_slug"`
	// ForwardedClicks counts the taps this superseded link passed on to
	// the link it was merged into (they are counted there).
	ForwardedClicks int64 `db:"forwarded_clicks"`
	// CreatedBy names who created the link (audit actor name); nil for
	// links older than the audit trail.
	CreatedBy *string `db:"created_by"`
}

// LinkRequest asks for the active link to a destination. DestinationURL must
// already be validated and normalized by the caller.
type LinkRequest struct {
	DestinationURL string
	LinkType       string
	BusinessID     *string
	SiteID         *string
}

// linkColumns are a Link's columns read from short_links (unaliased). The
// counts live in link_counters (migration 00015), a narrow row the click
// flush updates without touching short_links; a link just inserted has
// none yet in its own statement, hence COALESCE.
const linkColumns = `id, slug, destination_url, link_type, business_id::text, site_id::text, is_active,
	COALESCE((SELECT lc.click_count FROM link_counters lc WHERE lc.link_id = short_links.id), 0) AS click_count,
	COALESCE((SELECT lc.preview_count FROM link_counters lc WHERE lc.link_id = short_links.id), 0) AS preview_count,
	created_at, updated_at, created_by`

// countedLinks joins every link to its counters, for reads that sort or
// export by them; countedLinkColumns are a Link's columns from it.
const (
	countedLinks       = `link_counters lc JOIN short_links ON short_links.id = lc.link_id`
	countedLinkColumns = `short_links.id, slug, destination_url, link_type, business_id::text, site_id::text,
	is_active, lc.click_count, lc.preview_count, created_at, updated_at, created_by`
)

// supersededColumns completes linkColumns for one-link reads of
// short_links (unaliased): the survivor's slug rather than its id.
const supersededColumns = `, (SELECT s.slug FROM short_links s WHERE s.id = short_links.superseded_by) AS superseded_by_slug,
	COALESCE((SELECT lc.forwarded_clicks FROM link_counters lc WHERE lc.link_id = short_links.id), 0) AS forwarded_clicks`

// Bounds on the retry loops of GetOrCreateLink. Each retry needs a rare
// event (a winner deactivated between two statements, a random slug
// colliding), so hitting a bound means something is wrong, not busy.
const (
	maxRaceAttempts = 5
	maxSlugAttempts = 10
)

// GetOrCreateLink returns the one active link for (destination, link type),
// creating it when there is none. It never checks-then-acts: the insert
// itself is conflict-safe, so however many callers race, the database keeps
// exactly one active row and every caller gets it. created is true for the
// single caller whose insert won. While the unique index is missing or
// invalid it keeps the same promise another way (links_degraded.go).
func (s *Store) GetOrCreateLink(ctx context.Context, req LinkRequest) (Link, bool, error) {
	for range maxRaceAttempts {
		// Fast path, and after a lost race the winner's row: each SELECT is
		// its own statement and so sees a fresh snapshot that includes the
		// winner's committed insert.
		link, err := s.activeLink(ctx, req.DestinationURL, req.LinkType)
		if err == nil {
			return link, false, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Link{}, false, err
		}
		inForce, err := s.guaranteeInForce(ctx)
		if err != nil {
			return Link{}, false, err
		}
		if inForce {
			link, err = s.insertLink(ctx, req)
		} else {
			link, err = s.insertLinkLocked(ctx, req)
		}
		if err == nil {
			s.linksCreated.Add(1)
			return link, true, nil
		}
		switch {
		case errors.Is(err, errNoArbiter):
			// The index went away since we last looked: take the locked
			// path from now on (and right away, for this request).
			s.guaranteeLost(ctx)
			continue
		case !errors.Is(err, errLostRace):
			return Link{}, false, err
		}
		s.conflictsResolved.Add(1)
		s.log.DebugContext(ctx, "store: get-or-create lost the insert race; reading the winner", "link_type", req.LinkType)
	}
	return Link{}, false, fmt.Errorf("store: get-or-create %q: winner kept disappearing after %d attempts", req.DestinationURL, maxRaceAttempts)
}

// errLostRace means another transaction holds the active link for the
// destination: our INSERT did nothing.
var errLostRace = errors.New("lost insert race")

// activeLink finds the active link for a destination. The hash narrows the
// search through the unique index; the URL comparison makes it exact. With
// duplicates left from before the guarantee it returns the oldest, the one
// a heal keeps.
func (s *Store) activeLink(ctx context.Context, url, linkType string) (Link, error) {
	return activeLinkIn(ctx, s.db, url, linkType)
}

func activeLinkIn(ctx context.Context, q queryer, url, linkType string) (Link, error) {
	var l Link
	err := q.GetContext(ctx, &l, `SELECT `+linkColumns+` FROM short_links
		WHERE destination_hash = short_links_url_hash($1) AND destination_url = $1
		  AND link_type = $2 AND is_active
		ORDER BY created_at, id
		LIMIT 1`, url, linkType)
	if err != nil {
		return Link{}, fmt.Errorf("store: find active link: %w", classify(err))
	}
	return l, nil
}

// insertLink inserts a new active link, retrying with a fresh slug when the
// random slug collides. It returns errLostRace when another active link for
// the destination exists (committed, or committed while we waited on it).
func (s *Store) insertLink(ctx context.Context, req LinkRequest) (Link, error) {
	for range maxSlugAttempts {
		slug, err := s.newSlug()
		if err != nil {
			return Link{}, fmt.Errorf("store: generate slug: %w", err)
		}
		rows, err := s.insertLinkTx(ctx, req, slug)
		switch {
		case isUniqueViolation(err, "short_links_slug_key"):
			s.log.DebugContext(ctx, "store: slug collided; retrying with another", "slug", slug)
			continue
		case isNoArbiter(err):
			return Link{}, errNoArbiter
		case referenceError(err) != nil:
			return Link{}, fmt.Errorf("store: insert link: %w", referenceError(err))
		case err != nil:
			return Link{}, fmt.Errorf("store: insert link: %w", classify(err))
		case len(rows) == 0:
			return Link{}, errLostRace
		}
		return rows[0], nil
	}
	return Link{}, fmt.Errorf("store: insert link: %d slug collisions in a row", maxSlugAttempts)
}

// insertLinkTx inserts the link with slug and, when it won, its audit row,
// in one transaction. The arbiter is exactly the partial unique index
// UniqueIndexName (same columns, same predicate), so only a second active
// link for the destination is swallowed (no row returned, no audit row);
// a slug collision still raises a unique violation for the caller.
func (s *Store) insertLinkTx(ctx context.Context, req LinkRequest, slug string) ([]Link, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var rows []Link
	err = tx.SelectContext(ctx, &rows, `INSERT INTO short_links
		(slug, destination_url, link_type, business_id, site_id, created_by)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (destination_hash, link_type) WHERE is_active DO NOTHING
		RETURNING `+linkColumns,
		slug, req.DestinationURL, req.LinkType, req.BusinessID, req.SiteID, createdBy(ctx))
	if err != nil || len(rows) == 0 {
		return rows, err
	}
	l := rows[0]
	if err := s.auditLinkCreated(ctx, tx, l.Slug, LinkRequest{DestinationURL: l.DestinationURL, LinkType: l.LinkType, BusinessID: l.BusinessID}); err != nil {
		return nil, err
	}
	return rows, tx.Commit()
}

// auditLinkCreated writes the link.created row of a new link in the
// transaction that inserts it: every way a link is created (get-or-create,
// the degraded read-then-insert, a business's site link) records the same.
func (s *Store) auditLinkCreated(ctx context.Context, tx sqlx.ExecerContext, slug string, req LinkRequest) error {
	return s.audit(ctx, tx, AuditLinkCreated, "link", slug, nil, map[string]any{
		"destination_url": req.DestinationURL, "link_type": req.LinkType, "business_id": req.BusinessID})
}

// FindBySlug returns the link with slug, active or not.
func (s *Store) FindBySlug(ctx context.Context, slug string) (Link, error) {
	var l Link
	err := s.db.GetContext(ctx, &l, `SELECT `+linkColumns+supersededColumns+` FROM short_links WHERE slug = $1`, slug)
	if err != nil {
		return Link{}, fmt.Errorf("store: find link %q: %w", slug, classify(err))
	}
	return l, nil
}

// Deactivate retires the link on purpose: redirects to it answer 410, and
// so do the links superseded by it. Retiring a superseded link ends its
// forwarding (it answers 410 too); retiring a retired link is a no-op.
func (s *Store) Deactivate(ctx context.Context, slug string) (Link, error) {
	return s.setActive(ctx, slug, false)
}

// Activate makes the link active again (a superseded link stops being
// one). It fails with ErrConflict when another active link for the same
// destination exists: the unique index refuses, so no check-then-act race
// can sneak a duplicate in.
func (s *Store) Activate(ctx context.Context, slug string) (Link, error) {
	return s.setActive(ctx, slug, true)
}

func (s *Store) setActive(ctx context.Context, slug string, active bool) (Link, error) {
	if active {
		// Under the destination's lock whether or not the index is in
		// force: activations are rare, and no 42P10 would tell a stale
		// "in force" apart from a dropped index here.
		return s.activateLocked(ctx, slug)
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Link{}, fmt.Errorf("store: set link %q active=%t: %w", slug, active, classify(err))
	}
	defer tx.Rollback()
	l, err := s.setActiveIn(ctx, tx, slug, active)
	if err != nil {
		return Link{}, err
	}
	if err := tx.Commit(); err != nil {
		return Link{}, fmt.Errorf("store: set link %q active=%t: %w", slug, active, classify(err))
	}
	return l, nil
}

// setActiveIn changes the link's state in tx and records the change in
// the audit trail, in the same transaction.
func (s *Store) setActiveIn(ctx context.Context, tx *sqlx.Tx, slug string, active bool) (Link, error) {
	var before linkState
	// The row is locked first so the audit row's "before" is the state
	// this change replaced.
	err := tx.GetContext(ctx, &before, `SELECT is_active,
			(SELECT s.slug FROM short_links s WHERE s.id = short_links.superseded_by) AS superseded_by
		FROM short_links WHERE slug = $1 FOR UPDATE`, slug)
	if err != nil {
		return Link{}, fmt.Errorf("store: set link %q active=%t: %w", slug, active, classify(err))
	}
	var l Link
	// Either way the link is no longer superseded: an admin's decision
	// replaces the heal's. updated_at only moves when the state changes.
	err = tx.GetContext(ctx, &l, `UPDATE short_links
		SET is_active = $2, superseded_by = NULL,
		    updated_at = CASE WHEN is_active = $2 AND superseded_by IS NULL THEN updated_at ELSE clock_timestamp() END
		WHERE slug = $1
		RETURNING `+linkColumns+supersededColumns, slug, active)
	if isUniqueViolation(err, UniqueIndexName) {
		return Link{}, fmt.Errorf("store: activate %q: another active link has this destination: %w", slug, ErrConflict)
	}
	if err != nil {
		return Link{}, fmt.Errorf("store: set link %q active=%t: %w", slug, active, classify(err))
	}
	after := linkState{IsActive: l.IsActive, SupersededBy: l.SupersededBy}
	// A superseded link always changes (it stops being superseded).
	if before.IsActive != after.IsActive || before.SupersededBy != nil {
		action := AuditLinkDeactivated
		if active {
			action = AuditLinkReactivated
		}
		if err := s.audit(ctx, tx, action, "link", slug, before, after); err != nil {
			return Link{}, err
		}
	}
	return l, nil
}

// linkState is a link's state as audit rows record it.
type linkState struct {
	IsActive     bool    `db:"is_active" json:"is_active"`
	SupersededBy *string `db:"superseded_by" json:"superseded_by"`
}

// ActiveLinkSharingDestination returns the active link, other than slug
// itself, with slug's destination and link type: the one that blocks
// reactivating slug. ErrNotFound when there is none.
func (s *Store) ActiveLinkSharingDestination(ctx context.Context, slug string) (Link, error) {
	var l Link
	err := s.db.GetContext(ctx, &l, `SELECT `+linkColumns+` FROM short_links
		WHERE is_active AND slug <> $1
		  AND (destination_hash, link_type, destination_url) = (
			SELECT destination_hash, link_type, destination_url FROM short_links WHERE slug = $1)
		ORDER BY created_at, id
		LIMIT 1`, slug)
	if err != nil {
		return Link{}, fmt.Errorf("store: active link sharing %q's destination: %w", slug, classify(err))
	}
	return l, nil
}
