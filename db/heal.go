package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The online heal. Its steps are SQL functions of migration 00011
// (heal_start, heal_scan, heal_batch, heal_finish), shared with migration
// 00012, which drives them the same way from a DO block; Heal drives them
// from Go, each step in its own short transaction, then builds the unique
// index CONCURRENTLY. See migrations/00011_heal_runs.sql for the rule.

// healLock is the session advisory lock a heal driver holds while it runs
// ("shorthel"); migration 00012 takes the same key.
const healLock = 0x73686f72_7468656c

// HealScanRanges is how many ranges of destination hashes a heal scans
// (heal_scan's first-byte ranges).
const HealScanRanges = 256

// HealOptions tunes one heal. Zero values pick the defaults.
type HealOptions struct {
	// Source says who started it: "console", "cli" (heal_runs.source).
	Source string
	// BatchGroups is how many duplicate groups one step merges (100): a
	// click flush that touches one of them waits for the whole step.
	BatchGroups int
	// StepTimeout bounds each step's statement (30 s), in place of the
	// serving statement timeout.
	StepTimeout time.Duration
	// LockTimeout bounds each step's wait for a row lock (500 ms): a step
	// that would queue behind a click flush gives way and is retried, and
	// nothing queues behind the heal for longer than one short step.
	LockTimeout time.Duration
	// Progress, when set, is called after every step.
	Progress func(HealRun)
}

// HealRun is one heal as heal_runs records it.
type HealRun struct {
	ID          int64      `db:"id"`
	Source      string     `db:"source"`
	State       string     `db:"state"` // scanning, healing, indexing, done, failed
	StartedAt   time.Time  `db:"started_at"`
	UpdatedAt   time.Time  `db:"updated_at"`
	FinishedAt  *time.Time `db:"finished_at"`
	HealingAt   *time.Time `db:"healing_at"`  // when merging began
	RangesDone  int        `db:"ranges_done"` // of HealScanRanges
	GroupsFound int64      `db:"groups_found"`
	GroupsDone  int64      `db:"groups_done"`
	LinksMerged int64      `db:"links_merged"`
	Error       string     `db:"error"`
	// Running: some instance (or a migration) holds the heal lock now. An
	// unfinished run that is not running was interrupted; the next heal
	// resumes it.
	Running bool `db:"running"`
}

// Finished reports whether the run ended (done or failed).
func (r HealRun) Finished() bool { return r.FinishedAt != nil }

// Interrupted reports a run that stopped before its end and that no heal
// is running now: the next heal resumes it.
func (r HealRun) Interrupted() bool { return !r.Finished() && !r.Running }

// ETA estimates the time left of the current phase from its pace so far
// (scanning: hash ranges; healing: duplicate groups); 0 when unknown.
func (r HealRun) ETA(now time.Time) time.Duration {
	var done, total float64
	since := r.StartedAt
	switch r.State {
	case "scanning":
		done, total = float64(r.RangesDone), HealScanRanges
	case "healing":
		done, total = float64(r.GroupsDone), float64(r.GroupsFound)
		if r.HealingAt != nil {
			since = *r.HealingAt
		}
	}
	if done <= 0 || total <= done {
		return 0
	}
	return time.Duration(float64(now.Sub(since)) * (total - done) / done).Round(time.Second)
}

// HealMerge is one link a heal merged into another.
type HealMerge struct {
	Slug         string    `db:"slug"`
	SurvivorSlug string    `db:"survivor_slug"`
	MergedAt     time.Time `db:"merged_at"`
}

// ErrHealRunning means another heal holds the heal lock.
var ErrHealRunning = errors.New("another heal is running")

// maxIndexAttempts bounds the rounds of heal + index build: a build fails
// only when a duplicate appeared meanwhile, which the locked create path
// prevents, so a second round is already rare.
const maxIndexAttempts = 3

// Heal merges every duplicate group online and ends by building the unique
// index CONCURRENTLY (an INVALID leftover of a failed build is dropped
// first). It holds the heal lock for its whole run (ErrHealRunning when
// another heal has it) and resumes an interrupted run. Creates, redirects
// and click flushes go on meanwhile: each step holds its row locks for one
// batch and gives way to a lock it would wait for. The returned run is the
// last one (done, or failed with the error).
func (s *Store) Heal(ctx context.Context, o HealOptions) (HealRun, error) {
	o = o.withDefaults()
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return HealRun{}, fmt.Errorf("store: heal: %w", classify(err))
	}
	defer conn.Close()
	var got bool
	if err := conn.GetContext(ctx, &got, `SELECT pg_try_advisory_lock($1)`, int64(healLock)); err != nil {
		return HealRun{}, fmt.Errorf("store: heal: %w", classify(err))
	}
	if !got {
		return HealRun{}, ErrHealRunning
	}
	defer func() {
		// The lock is the session's: give it back before the connection
		// returns to the pool (a dead process's connection drops it anyway).
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(healLock)); err != nil {
			s.log.Warn("store: heal: releasing the heal lock failed", "err", err)
		}
	}()
	var run HealRun
	for attempt := 1; attempt <= maxIndexAttempts; attempt++ {
		run, err = s.healOnce(ctx, conn, o)
		if !errors.Is(err, errDuplicateDuringBuild) {
			return run, err
		}
		s.log.Warn("store: heal: a duplicate appeared while the unique index was built; healing again", "run", run.ID)
	}
	return run, err
}

var errDuplicateDuringBuild = errors.New("a duplicate appeared while the unique index was being built")

func (o HealOptions) withDefaults() HealOptions {
	if o.Source == "" {
		o.Source = "cli"
	}
	if o.BatchGroups <= 0 {
		o.BatchGroups = 100
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 30 * time.Second
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 500 * time.Millisecond
	}
	return o
}

// healOnce drives one run from wherever it stands to done.
func (s *Store) healOnce(ctx context.Context, conn *sqlx.Conn, o HealOptions) (HealRun, error) {
	var id int64
	if err := s.healStep(ctx, conn, o, &id, `SELECT heal_start($1)`, o.Source); err != nil {
		return HealRun{}, err
	}
	run, err := s.healStarted(ctx, conn, id)
	if err != nil {
		return run, err
	}
	for more := true; more; {
		if err := s.healStep(ctx, conn, o, &more, `SELECT heal_scan($1)`, id); err != nil {
			return s.healEnded(ctx, conn, id, err)
		}
		s.healProgress(ctx, conn, id, o)
	}
	for n := 1; n > 0; {
		if err := s.healStep(ctx, conn, o, &n, `SELECT heal_batch($1, $2)`, id, o.BatchGroups); err != nil {
			return s.healEnded(ctx, conn, id, err)
		}
		s.healProgress(ctx, conn, id, o)
	}
	return s.healEnded(ctx, conn, id, s.buildUniqueIndex(ctx, conn))
}

// healStep runs one step in its own transaction with the heal's timeouts,
// retrying while it only gave way to a row lock.
func (s *Store) healStep(ctx context.Context, conn *sqlx.Conn, o HealOptions, dest any, query string, args ...any) error {
	for {
		// An interrupted heal stops here, between steps, with its
		// connection intact: lib/pq marks a connection bad when a
		// statement starts under an ended context, and the heal lock
		// would then go only when the server notices the closed socket,
		// not at the unlock in Heal.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: heal: %w", classify(err))
		}
		err := healStepOnce(ctx, conn, o, dest, query, args...)
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || (pqErr.Code != "55P03" && pqErr.Code != "40P01") {
			if err != nil {
				return fmt.Errorf("store: heal: %w", classify(err))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: heal: %w", classify(ctx.Err()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func healStepOnce(ctx context.Context, conn *sqlx.Conn, o HealOptions, dest any, query string, args ...any) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)`,
		strconv.FormatInt(o.StepTimeout.Milliseconds(), 10), strconv.FormatInt(o.LockTimeout.Milliseconds(), 10)); err != nil {
		return err
	}
	if err := tx.GetContext(ctx, dest, query, args...); err != nil {
		return err
	}
	return tx.Commit()
}

// healStarted is where every heal run starts (or resumes), whoever
// started it; audit records of heals belong here and in healEnded.
func (s *Store) healStarted(ctx context.Context, conn *sqlx.Conn, id int64) (HealRun, error) {
	run, err := healRunIn(ctx, conn, id)
	if err != nil {
		return run, err
	}
	s.log.InfoContext(ctx, "store: heal started", "run", id, "source", run.Source, "state", run.State,
		"resumed", run.RangesDone > 0 || run.State != "scanning")
	return run, nil
}

// healEnded records how a run ended (done, or failed with cause) and logs
// its summary; the merged slugs are in heal_merges, not in the log.
func (s *Store) healEnded(ctx context.Context, conn *sqlx.Conn, id int64, cause error) (HealRun, error) {
	// Recorded even when ctx ended (a shutdown interrupts a heal: it stays
	// unfinished, to be resumed, unless it failed for another reason).
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	interrupted := cause != nil && ctx.Err() != nil
	if !interrupted {
		// What an admin reads on the dashboard: never SQL; the log has it.
		msg := ""
		switch {
		case errors.Is(cause, errDuplicateDuringBuild):
			msg = "A new duplicate appeared while the unique index was being built."
		case cause != nil:
			msg = "The heal stopped on a database error (the server log has it)."
		}
		if err := s.healFinish(bg, conn, id, msg); err != nil {
			s.log.Warn("store: heal: recording the end of the run failed", "run", id, "err", err)
		}
	}
	run, err := healRunIn(bg, conn, id)
	if err != nil {
		return run, errors.Join(cause, err)
	}
	took := run.UpdatedAt.Sub(run.StartedAt).Seconds()
	switch {
	case cause == nil:
		s.setGuarantee(ctx, true)
		s.log.InfoContext(ctx, "store: heal finished; the unique index is in force", "run", id, "source", run.Source,
			"groups", run.GroupsDone, "links_merged", run.LinksMerged, "seconds", took)
	case interrupted:
		s.log.WarnContext(ctx, "store: heal interrupted; the next heal resumes it", "run", id, "state", run.State,
			"groups_done", run.GroupsDone, "groups_found", run.GroupsFound)
	default:
		s.log.ErrorContext(ctx, "store: heal failed", "run", id, "state", run.State, "err", cause)
	}
	return run, cause
}

// healFinish records the end of run id and its audit rows in one
// transaction, so the trail has a heal exactly when heal_runs says it ended.
func (s *Store) healFinish(ctx context.Context, conn *sqlx.Conn, id int64, msg string) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT heal_finish($1, $2)`, id, msg); err != nil {
		return err
	}
	run, err := healRunIn(ctx, tx, id)
	if err != nil {
		return err
	}
	if err := s.auditHeal(ctx, tx, run); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) healProgress(ctx context.Context, conn *sqlx.Conn, id int64, o HealOptions) {
	if o.Progress == nil {
		return
	}
	if run, err := healRunIn(ctx, conn, id); err == nil {
		o.Progress(run)
	}
}

// buildUniqueIndex builds UniqueIndexName CONCURRENTLY, first dropping an
// INVALID leftover of a build that failed or was interrupted. Neither
// statement blocks reads or writes; both may take minutes at millions of
// links, so the session's statement timeout is lifted for them.
func (s *Store) buildUniqueIndex(ctx context.Context, conn *sqlx.Conn) error {
	if _, err := conn.ExecContext(ctx, `SET statement_timeout = 0`); err != nil {
		return fmt.Errorf("store: heal: %w", classify(err))
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `RESET statement_timeout`)
	st, err := indexStateIn(ctx, conn)
	if err != nil {
		return err
	}
	if st.Present && !st.Valid {
		if _, err := conn.ExecContext(ctx, dropUniqueIndex); err != nil {
			return fmt.Errorf("store: heal: drop the invalid %s: %w", UniqueIndexName, classify(err))
		}
	}
	// 00012's leftover name, when its rename succeeded and its drop did not.
	if _, err := conn.ExecContext(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+UniqueIndexName+`_invalid`); err != nil {
		return fmt.Errorf("store: heal: %w", classify(err))
	}
	_, err = conn.ExecContext(ctx, createUniqueIndex)
	if isUniqueViolation(err, UniqueIndexName) {
		if _, derr := conn.ExecContext(ctx, dropUniqueIndex); derr != nil {
			s.log.Warn("store: heal: dropping the failed index build failed", "err", derr)
		}
		return errDuplicateDuringBuild
	}
	if err != nil {
		return fmt.Errorf("store: heal: build %s: %w", UniqueIndexName, classify(err))
	}
	return nil
}

const dropUniqueIndex = `DROP INDEX CONCURRENTLY IF EXISTS ` + UniqueIndexName

// healRunColumns reads a heal_runs row and whether a heal runs now: the
// heal lock as pg_locks shows a bigint advisory key (high and low halves)
// in this database (advisory locks are per database; pg_locks lists all).
const healRunColumns = `id, source, state, started_at, updated_at, finished_at, healing_at, ranges_done,
	groups_found, groups_done, links_merged, error,
	EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
	        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	        AND classid = x'73686f72'::bigint::oid AND objid = x'7468656c'::bigint::oid) AS running`

func healRunIn(ctx context.Context, q queryer, id int64) (HealRun, error) {
	var r HealRun
	if err := q.GetContext(ctx, &r, `SELECT `+healRunColumns+` FROM heal_runs WHERE id = $1`, id); err != nil {
		return HealRun{}, fmt.Errorf("store: heal run %d: %w", id, classify(err))
	}
	return r, nil
}

// LatestHealRun returns the newest heal run (ErrNotFound when there has
// been none).
func (s *Store) LatestHealRun(ctx context.Context) (HealRun, error) {
	var r HealRun
	err := s.db.GetContext(ctx, &r, `SELECT `+healRunColumns+` FROM heal_runs ORDER BY id DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return HealRun{}, fmt.Errorf("store: latest heal run: %w", ErrNotFound)
	}
	if err != nil {
		return HealRun{}, fmt.Errorf("store: latest heal run: %w", classify(err))
	}
	return r, nil
}

// HealMerges lists up to limit links that heal run id merged, in order.
func (s *Store) HealMerges(ctx context.Context, id int64, limit int) ([]HealMerge, error) {
	var out []HealMerge
	err := s.db.SelectContext(ctx, &out, `SELECT slug, survivor_slug, merged_at FROM heal_merges
		WHERE run_id = $1 ORDER BY merged_at, link_id LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("store: heal merges: %w", classify(err))
	}
	return out, nil
}

// indexStateIn is UniqueIndexState on a given connection.
func indexStateIn(ctx context.Context, q queryer) (IndexState, error) {
	var st IndexState
	err := q.GetContext(ctx, &st, `SELECT count(*) > 0 AS present, COALESCE(bool_and(i.indisvalid), false) AS valid
		FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
		WHERE c.relname = $1 AND c.relnamespace = to_regnamespace(current_schema())`, UniqueIndexName)
	if err != nil {
		return IndexState{}, fmt.Errorf("store: unique index state: %w", classify(err))
	}
	return st, nil
}
