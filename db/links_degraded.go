package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lib/pq"
)

// The one-active-link guarantee has two enforcers. Normally the partial
// unique index UniqueIndexName is the arbiter of GetOrCreateLink's
// ON CONFLICT. When the index is missing (a failed deploy, a restore
// without indexes, `migrate down`) or INVALID (a concurrent build that
// failed or is still running), ON CONFLICT cannot name it (42P10) and a
// plain INSERT would duplicate. Then every instance runs the create as
// SELECT-then-INSERT inside one transaction that holds a transaction-level
// advisory lock on (link type, destination): the lock spans instances and
// ends with the transaction, so two creates of one destination run one
// after the other and the second finds the first's link. The service says
// it runs degraded (log lines, the shortlinks_degraded gauge) until the
// index is valid again (a heal ends by building it), then switches back.

// indexStateTTL is how long the catalog's answer about the index is
// trusted: the fast path costs no query, and a dropped index is noticed at
// once anyway (42P10) while a rebuilt one is noticed within this time.
const indexStateTTL = 5 * time.Second

// guarantee caches whether the unique index is in force.
type guarantee struct {
	mu       sync.Mutex
	known    bool
	inForce  bool
	checked  time.Time
	degraded bool // what the log last said (start-up counts as in force)
}

// errNoArbiter means ON CONFLICT found no valid unique index (42P10).
var errNoArbiter = errors.New("no valid unique index for ON CONFLICT")

func isNoArbiter(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "42P10"
}

// guaranteeInForce reports whether the unique index exists and is valid,
// from the catalog at most indexStateTTL ago.
func (s *Store) guaranteeInForce(ctx context.Context) (bool, error) {
	g := &s.guarantee
	g.mu.Lock()
	if g.known && time.Since(g.checked) < indexStateTTL {
		inForce := g.inForce
		g.mu.Unlock()
		return inForce, nil
	}
	g.mu.Unlock()
	st, err := s.UniqueIndexState(ctx)
	if err != nil {
		return false, err
	}
	s.setGuarantee(ctx, st.Present && st.Valid)
	return st.Present && st.Valid, nil
}

// guaranteeLost records a 42P10: the index is not usable, whatever the
// cache said.
func (s *Store) guaranteeLost(ctx context.Context) { s.setGuarantee(ctx, false) }

func (s *Store) setGuarantee(ctx context.Context, inForce bool) {
	g := &s.guarantee
	g.mu.Lock()
	g.known, g.inForce, g.checked = true, inForce, time.Now()
	changed := g.degraded == inForce
	g.degraded = !inForce
	g.mu.Unlock()
	switch {
	case changed && !inForce:
		s.log.WarnContext(ctx, "store: running degraded: the unique index is missing or invalid; "+
			"creates take an advisory lock per destination until it is back (run 'shortlinks heal' or Heal now on /admin/health)",
			"index", UniqueIndexName)
	case changed:
		s.log.InfoContext(ctx, "store: the unique index is valid again; creates use ON CONFLICT", "index", UniqueIndexName)
	}
}

// Degraded reports whether get-or-create last found the unique index
// missing or invalid (for /metrics).
func (s *Store) Degraded() bool {
	s.guarantee.mu.Lock()
	defer s.guarantee.mu.Unlock()
	return s.guarantee.degraded
}

// lockDestination takes the transaction-level advisory lock that
// serialises creates and activations of one (destination, link type)
// across instances while the index is not in force. The key is the pair
// of int4 hashes (its own key space, apart from the single-bigint keys of
// the other locks); two destinations that share a key merely wait for each
// other.
const lockDestination = `SELECT pg_advisory_xact_lock(hashtext($2), hashtext($1))`

// insertLinkLocked is insertLink without the unique index: under the
// destination's lock, read the active link and insert only when there is
// none. It returns errLostRace when a link is there (the caller reads it).
func (s *Store) insertLinkLocked(ctx context.Context, req LinkRequest) (Link, error) {
	for range maxSlugAttempts {
		slug, err := s.newSlug()
		if err != nil {
			return Link{}, fmt.Errorf("store: generate slug: %w", err)
		}
		l, err := s.insertLinkLockedOnce(ctx, req, slug)
		if errors.Is(err, errSlugTaken) {
			s.log.DebugContext(ctx, "store: slug collided; retrying with another", "slug", slug)
			continue
		}
		return l, err
	}
	return Link{}, fmt.Errorf("store: insert link: %d slug collisions in a row", maxSlugAttempts)
}

var errSlugTaken = errors.New("slug taken")

func (s *Store) insertLinkLockedOnce(ctx context.Context, req LinkRequest, slug string) (Link, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Link{}, fmt.Errorf("store: insert link: %w", classify(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, lockDestination, req.DestinationURL, req.LinkType); err != nil {
		return Link{}, fmt.Errorf("store: insert link: lock destination: %w", classify(err))
	}
	// Read committed: this statement sees every link committed before we
	// got the lock, so a create that held it before us is found here.
	if _, err := activeLinkIn(ctx, tx, req.DestinationURL, req.LinkType); err == nil {
		return Link{}, errLostRace
	} else if !errors.Is(err, ErrNotFound) {
		return Link{}, err
	}
	var l Link
	err = tx.GetContext(ctx, &l, `INSERT INTO short_links (slug, destination_url, link_type, business_id, site_id, created_by)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING `+linkColumns,
		slug, req.DestinationURL, req.LinkType, req.BusinessID, req.SiteID, createdBy(ctx))
	switch {
	case isUniqueViolation(err, "short_links_slug_key"):
		return Link{}, errSlugTaken
	case isUniqueViolation(err, UniqueIndexName):
		// The index is back (an instance on the ON CONFLICT path won).
		return Link{}, errLostRace
	case referenceError(err) != nil:
		return Link{}, fmt.Errorf("store: insert link: %w", referenceError(err))
	case err != nil:
		return Link{}, fmt.Errorf("store: insert link: %w", classify(err))
	}
	if err := s.auditLinkCreated(ctx, tx, l.Slug, LinkRequest{DestinationURL: l.DestinationURL, LinkType: l.LinkType, BusinessID: l.BusinessID}); err != nil {
		return Link{}, err
	}
	if err := tx.Commit(); err != nil {
		return Link{}, fmt.Errorf("store: insert link: %w", classify(err))
	}
	return l, nil
}

// activateLocked is Activate without the unique index: under the
// destination's lock, refuse when another link is active.
func (s *Store) activateLocked(ctx context.Context, slug string) (Link, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Link{}, fmt.Errorf("store: activate %q: %w", slug, classify(err))
	}
	defer tx.Rollback()
	var dest struct {
		URL  string `db:"destination_url"`
		Type string `db:"link_type"`
	}
	if err := tx.GetContext(ctx, &dest, `SELECT destination_url, link_type FROM short_links WHERE slug = $1`, slug); err != nil {
		return Link{}, fmt.Errorf("store: activate %q: %w", slug, classify(err))
	}
	if _, err := tx.ExecContext(ctx, lockDestination, dest.URL, dest.Type); err != nil {
		return Link{}, fmt.Errorf("store: activate %q: lock destination: %w", slug, classify(err))
	}
	other, err := activeLinkIn(ctx, tx, dest.URL, dest.Type)
	if err == nil && other.Slug != slug {
		return Link{}, fmt.Errorf("store: activate %q: another active link has this destination: %w", slug, ErrConflict)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Link{}, err
	}
	l, err := s.setActiveIn(ctx, tx, slug, true)
	if err != nil {
		return Link{}, err
	}
	if err := tx.Commit(); err != nil {
		return Link{}, fmt.Errorf("store: activate %q: %w", slug, classify(err))
	}
	return l, nil
}
