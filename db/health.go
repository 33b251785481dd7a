package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// duplicateCheckLock is the advisory lock key that lets one instance at a
// time run the full duplicate check ("shortlinks dup" in ASCII).
const duplicateCheckLock = 0x73686f72_74647570

// duplicateCheckTimeout bounds the full check, which reads every link; the
// serving statement timeout is far too short for it at millions of links.
const duplicateCheckTimeout = 5 * time.Minute

// checksKept is how many past checks duplicate_checks keeps.
const checksKept = 100

// DuplicateGroup is a (destination, link type) with more than one active link:
// a broken guarantee. Healthy databases have none. duplicate_checks.groups
// stores them as JSON with the field names as keys (not an API shape).
type DuplicateGroup struct {
	DestinationURL string    `db:"destination_url"`
	LinkType       string    `db:"link_type"`
	Links          int       `db:"links"`
	Slugs          []string  `db:"-"`
	FirstCreated   time.Time `db:"first_created"`
}

// DuplicateCheck is the result of one full duplicate check: the seed's
// monitoring figures, as of FinishedAt.
type DuplicateCheck struct {
	ID              int64            `db:"id"`
	StartedAt       time.Time        `db:"started_at"`
	FinishedAt      time.Time        `db:"finished_at"`
	DuplicateGroups int              `db:"duplicate_groups"`
	DuplicateLinks  int              `db:"duplicate_links"` // active links inside duplicate groups
	ActiveLinks     int              `db:"active_links"`
	InactiveLinks   int              `db:"inactive_links"`
	HistoryLinks    int              `db:"history_links"` // inactive links whose destination has an active link
	GroupsJSON      []byte           `db:"groups"`
	Groups          []DuplicateGroup `db:"-"` // the largest 100
}

// CheckOptions say when RunDuplicateCheck may skip the check.
type CheckOptions struct {
	// MaxAge: a check that finished less than MaxAge ago is returned instead
	// of running a new one (0: always run).
	MaxAge time.Duration
	// Wait for another instance's check to finish rather than returning the
	// latest result at once.
	Wait bool
}

// RunDuplicateCheck runs the full duplicate check unless another instance
// is running it (advisory lock) or a recent enough one exists, stores the
// result for every instance to read, and returns the latest check. It
// returns ErrNotFound only when it skipped and no check has ever finished.
func (s *Store) RunDuplicateCheck(ctx context.Context, o CheckOptions) (DuplicateCheck, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: duplicate check: %w", classify(err))
	}
	defer tx.Rollback()
	// Waiting for the lock and the check itself may take longer than the
	// serving statement timeout allows.
	// JIT off: the check's cost estimate buys the most expensive compilation
	// (inlining, optimization), which made it slower (measured at 10M links:
	// 13.9 s with, 9.7 s without).
	if _, err := tx.ExecContext(ctx, `SELECT set_config('statement_timeout', $1, true), set_config('jit', 'off', true)`, strconv.FormatInt(duplicateCheckTimeout.Milliseconds(), 10)); err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: duplicate check: %w", classify(err))
	}
	// A transaction-level lock: it ends with the transaction, even if this
	// process dies, so no instance can hold it forever.
	lock := `SELECT pg_try_advisory_xact_lock($1)`
	if o.Wait {
		lock = `SELECT true FROM pg_advisory_xact_lock($1)`
	}
	var got bool
	if err := tx.GetContext(ctx, &got, lock, int64(duplicateCheckLock)); err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: duplicate check lock: %w", classify(err))
	}
	// A database not migrated to 00005 yet (check-duplicates before the
	// fix) is checked all the same; there is just nowhere to keep the result.
	var tables struct {
		Store bool `db:"store"`
		Audit bool `db:"audit"`
	}
	if err := tx.GetContext(ctx, &tables, `SELECT to_regclass('duplicate_checks') IS NOT NULL AS store,
			to_regclass('audit_log') IS NOT NULL AS audit`); err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: duplicate check: %w", classify(err))
	}
	store := tables.Store
	if store {
		// Read committed: a check that finished while this one waited is seen.
		latest, err := latestCheck(ctx, tx)
		if !got || (err == nil && o.MaxAge > 0 && time.Since(latest.FinishedAt) < o.MaxAge) {
			return latest, err
		}
	}
	c := DuplicateCheck{StartedAt: time.Now()}
	// One pass over short_links_destination_idx (destination_hash, link_type)
	// INCLUDE (is_active): an index-only scan in key order feeds a group
	// aggregate with neither sort nor hash table. SHA-256 stands in for the
	// URL, as in the unique index.
	err = tx.GetContext(ctx, &c, `SELECT
			count(*) FILTER (WHERE active > 1) AS duplicate_groups,
			COALESCE(sum(active) FILTER (WHERE active > 1), 0) AS duplicate_links,
			COALESCE(sum(active), 0) AS active_links,
			COALESCE(sum(links - active), 0) AS inactive_links,
			COALESCE(sum(links - active) FILTER (WHERE active > 0), 0) AS history_links
		FROM (SELECT sum(is_active::int) AS active, count(*) AS links
		      FROM short_links GROUP BY destination_hash, link_type) g`)
	if err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: duplicate check: %w", classify(err))
	}
	c.Groups = []DuplicateGroup{}
	if c.DuplicateGroups > 0 {
		if c.Groups, err = duplicateGroups(ctx, tx); err != nil {
			return DuplicateCheck{}, err
		}
	}
	if !store {
		c.FinishedAt = time.Now()
		return c, tx.Commit()
	}
	if c.GroupsJSON, err = json.Marshal(c.Groups); err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: duplicate check: %w", err)
	}
	err = tx.GetContext(ctx, &c, `INSERT INTO duplicate_checks (started_at, duplicate_groups, duplicate_links,
			active_links, inactive_links, history_links, groups)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING id, finished_at`,
		c.StartedAt, c.DuplicateGroups, c.DuplicateLinks, c.ActiveLinks, c.InactiveLinks, c.HistoryLinks, c.GroupsJSON)
	if err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: save duplicate check: %w", classify(err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM duplicate_checks WHERE id <= $1`, c.ID-checksKept); err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: prune duplicate checks: %w", classify(err))
	}
	if tables.Audit {
		if err := s.audit(ctx, tx, AuditCheckRun, "duplicate_check", strconv.FormatInt(c.ID, 10), nil, map[string]int{
			"duplicate_groups": c.DuplicateGroups, "duplicate_links": c.DuplicateLinks}); err != nil {
			return DuplicateCheck{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: duplicate check: %w", classify(err))
	}
	return c, nil
}

// DuplicateGroups lists the largest 100 duplicate groups now (a full
// scan of active links: for the heal confirmation page, not for monitoring).
func (s *Store) DuplicateGroups(ctx context.Context) ([]DuplicateGroup, error) {
	return duplicateGroups(ctx, s.db)
}

// duplicateGroups lists the largest 100 duplicate groups. It runs only when
// the count found some, so a healthy database pays one pass, not two.
func duplicateGroups(ctx context.Context, tx queryer) ([]DuplicateGroup, error) {
	var rows []struct {
		DuplicateGroup
		Slugs pq.StringArray `db:"slugs"`
	}
	err := tx.SelectContext(ctx, &rows, `SELECT min(destination_url) AS destination_url, link_type,
			count(*) AS links, array_agg(slug ORDER BY created_at, id) AS slugs, min(created_at) AS first_created
		FROM short_links
		WHERE is_active
		GROUP BY destination_hash, link_type
		HAVING count(*) > 1
		ORDER BY links DESC, first_created
		LIMIT 100`)
	if err != nil {
		return nil, fmt.Errorf("store: duplicate groups: %w", classify(err))
	}
	groups := make([]DuplicateGroup, len(rows))
	for i, r := range rows {
		groups[i] = r.DuplicateGroup
		groups[i].Slugs = []string(r.Slugs)
	}
	return groups, nil
}

// LatestDuplicateCheck returns the last completed check, whichever instance
// ran it: one index probe. ErrNotFound when none has finished yet.
func (s *Store) LatestDuplicateCheck(ctx context.Context) (DuplicateCheck, error) {
	return latestCheck(ctx, s.db)
}

type queryer interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

func latestCheck(ctx context.Context, q queryer) (DuplicateCheck, error) {
	var c DuplicateCheck
	err := q.GetContext(ctx, &c, `SELECT id, started_at, finished_at, duplicate_groups, duplicate_links,
			active_links, inactive_links, history_links, groups
		FROM duplicate_checks ORDER BY id DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return DuplicateCheck{}, fmt.Errorf("store: latest duplicate check: %w", ErrNotFound)
	}
	if err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: latest duplicate check: %w", classify(err))
	}
	if err := json.Unmarshal(c.GroupsJSON, &c.Groups); err != nil {
		return DuplicateCheck{}, fmt.Errorf("store: latest duplicate check: groups: %w", err)
	}
	return c, nil
}

// IndexState is what the catalog says about the unique index right now.
type IndexState struct {
	Present bool `db:"present"`
	Valid   bool `db:"valid"` // false while a build is unfinished or after a failed CREATE INDEX CONCURRENTLY
}

// UniqueIndexState reads from the catalog whether the one-active-link index
// exists and is valid: the guarantee itself, never a cached answer.
// Get-or-create's cached view of the index follows the answer.
func (s *Store) UniqueIndexState(ctx context.Context) (IndexState, error) {
	st, err := indexStateIn(ctx, s.db)
	if err == nil {
		s.setGuarantee(ctx, st.Present && st.Valid)
	}
	return st, err
}

// auditHeal writes a finished heal's audit rows inside the transaction
// that records its end: one per link the run merged (heal_merges), naming
// the link it now forwards to, and one for the run. A resumed run's rows
// are written once, when it ends.
func (s *Store) auditHeal(ctx context.Context, tx *sqlx.Tx, run HealRun) error {
	// One statement for every merged link, however many: a heal of a large
	// table must not make one round trip per merge inside healEnded's
	// short timeout. The rows are those of audit(), actor from ctx.
	a := ActorFrom(ctx)
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_log
			(actor, actor_kind, action, object_type, object_id, before, after, client_addr)
		SELECT $2, $3, $4, 'link', slug, '{"is_active": true}'::jsonb,
		       jsonb_build_object('is_active', false, 'superseded_by', survivor_slug), $5
		FROM heal_merges WHERE run_id = $1 ORDER BY slug`,
		run.ID, a.Name, a.Kind, AuditLinkMerged, a.Client)
	if err != nil {
		return fmt.Errorf("store: heal: audit: %w", classify(err))
	}
	merged, _ := res.RowsAffected()
	return s.audit(ctx, tx, AuditHealRun, "heal", strconv.FormatInt(run.ID, 10), nil, map[string]any{
		"source": run.Source, "state": run.State, "groups": run.GroupsDone, "links_merged": run.LinksMerged,
		"deactivated": merged,
	})
}
