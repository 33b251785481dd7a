package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"time"

	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// OneActiveLinkVersion is the migration that heals duplicate active links
// online and builds the partial unique index CONCURRENTLY (00012; 00004
// used to, under a lock that stopped every write). Tests that remove the
// guarantee migrate down to OneActiveLinkVersion-1 explicitly.
const OneActiveLinkVersion = 12

// Lock retries: a file whose strong lock is not granted within its
// lock_timeout (a long transaction holds the table) fails with 55P03, and
// is run again after a pause rather than queueing every read and write of
// the table behind it. Transactional files rolled back whole; the NO
// TRANSACTION files are written so that every statement may run again.
const (
	lockRetries   = 30
	lockRetryWait = 2 * time.Second
)

// Migrator applies the embedded migrations through goose's Provider API; no
// goose type leaves this package. A Postgres session (advisory) lock
// serialises instances that migrate at the same time, so several can start
// together without harm.
type Migrator struct {
	p    *goose.Provider
	conn *sql.DB
	fsys fs.FS
	log  *slog.Logger
}

// Applied is one migration applied or rolled back.
type Applied struct {
	Version  int64
	File     string
	Duration time.Duration
}

// Status is one migration and whether the database has it.
type Status struct {
	Version   int64
	File      string
	Applied   bool
	AppliedAt time.Time // zero when not applied
}

// New returns a Migrator for conn; log, when not nil, receives goose's
// progress lines.
func New(conn *sql.DB, log *slog.Logger) (*Migrator, error) {
	return newFromFS(conn, FS, log)
}

// newFromFS is New over other migration files (the schema test runs the
// original ones).
func newFromFS(conn *sql.DB, fsys fs.FS, log *slog.Logger) (*Migrator, error) {
	// Retry the lock every second (goose's default is every 5 s) for the
	// same 5 minutes in all: instances starting together wait less.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("migrate: locker: %w", err)
	}
	// Out of order: 00025-00029 (accounts and the audit trail) were merged
	// after 00030-00037, so a database migrated before them has a gap that
	// the next start must fill rather than refuse. Every file's Up is
	// independent of the later ones.
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker), goose.WithAllowOutofOrder(true)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, conn, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return &Migrator{p: p, conn: conn, fsys: fsys, log: log}, nil
}

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) ([]Applied, error) {
	return m.retry(ctx, m.p.Up)
}

// UpTo applies pending migrations up to and including version.
func (m *Migrator) UpTo(ctx context.Context, version int64) ([]Applied, error) {
	return m.retry(ctx, func(ctx context.Context) ([]*goose.MigrationResult, error) { return m.p.UpTo(ctx, version) })
}

// Down rolls back the latest applied migration.
func (m *Migrator) Down(ctx context.Context) (Applied, error) {
	res, err := m.retry(ctx, func(ctx context.Context) ([]*goose.MigrationResult, error) {
		r, err := m.p.Down(ctx)
		if err != nil {
			return nil, err
		}
		return []*goose.MigrationResult{r}, nil
	})
	if err != nil || len(res) == 0 {
		return Applied{}, err
	}
	return res[0], nil
}

// Apply runs one migration's Up (up) or Down, whatever the state of the
// others: cmd/benchscale times the heal (00004) on a big dataset by rolling
// it back and applying it again under the later migrations.
func (m *Migrator) Apply(ctx context.Context, version int64, up bool) (Applied, error) {
	res, err := m.retry(ctx, func(ctx context.Context) ([]*goose.MigrationResult, error) {
		r, err := m.p.ApplyVersion(ctx, version, up)
		if err != nil {
			return nil, err
		}
		return []*goose.MigrationResult{r}, nil
	})
	if err != nil || len(res) == 0 {
		return Applied{}, err
	}
	return res[0], nil
}

// DownTo rolls back every applied migration above version.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]Applied, error) {
	return m.retry(ctx, func(ctx context.Context) ([]*goose.MigrationResult, error) { return m.p.DownTo(ctx, version) })
}

// retry runs step again while it fails on a lock timeout (or a deadlock),
// up to lockRetries times; what each attempt applied is reported.
func (m *Migrator) retry(ctx context.Context, step func(context.Context) ([]*goose.MigrationResult, error)) ([]Applied, error) {
	var all []Applied
	for attempt := 1; ; attempt++ {
		if err := m.dropInvalidLeftovers(ctx); err != nil {
			if !retryable(err) || attempt >= lockRetries {
				return all, err
			}
		}
		res, err := step(ctx)
		all = append(all, applied(res)...)
		var partial *goose.PartialError
		if errors.As(err, &partial) {
			all = append(all, applied(partial.Applied)...)
		}
		if err == nil || !retryable(err) || attempt >= lockRetries {
			return all, err
		}
		if m.log != nil {
			m.log.Warn("migrate: a lock was not granted in time; retrying", "attempt", attempt, "err", err)
		}
		select {
		case <-ctx.Done():
			return all, err
		case <-time.After(lockRetryWait):
		}
	}
}

// concurrentIndex finds the indexes a file builds concurrently; IF NOT
// EXISTS is how every such file is written, so a rerun skips a finished one.
var concurrentIndex = regexp.MustCompile(`(?i)CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+([a-z_][a-z0-9_]*)`)

// dropInvalidLeftovers drops, before a run, the INVALID indexes that a
// pending file creates with CREATE INDEX CONCURRENTLY IF NOT EXISTS. A
// concurrent build that fails (its lock_timeout while it waits for older
// transactions, a kill) leaves its index INVALID, and the file's rerun —
// this migrator's retry, or the next `migrate up` — would skip it as
// existing and record the file applied with an index no query can use.
// Builds still running (pg_stat_progress_create_index: another instance's
// migration, or a heal) are left alone. One place for every file, where
// 00005, 00007 and 00012 each rename and drop their own leftovers.
func (m *Migrator) dropInvalidLeftovers(ctx context.Context) error {
	st, err := m.p.Status(ctx)
	if err != nil {
		return nil // no version table yet: nothing was built
	}
	var names []string
	for _, s := range st {
		if s.State != goose.StatePending {
			continue
		}
		b, err := fs.ReadFile(m.fsys, s.Source.Path)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, match := range concurrentIndex.FindAllSubmatch(b, -1) {
			names = append(names, string(match[1]))
		}
	}
	if len(names) == 0 {
		return nil
	}
	var leftovers []string
	err = m.conn.QueryRowContext(ctx, `SELECT COALESCE(array_agg(c.relname::text), '{}') FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid
		WHERE NOT i.indisvalid AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid)`,
		pq.Array(names)).Scan(pq.Array(&leftovers))
	if err != nil {
		return fmt.Errorf("migrate: looking for invalid indexes: %w", err)
	}
	for _, name := range leftovers {
		if m.log != nil {
			m.log.Warn("migrate: dropping an invalid index left by an interrupted concurrent build", "index", name)
		}
		if err := dropIndexConcurrently(ctx, m.conn, name); err != nil {
			return fmt.Errorf("migrate: dropping invalid index %s: %w", name, err)
		}
	}
	return nil
}

// dropIndexConcurrently drops an index without blocking the table's reads
// and writes, giving up on a lock after 3 s (a retryable 55P03).
func dropIndexConcurrently(ctx context.Context, conn *sql.DB, name string) error {
	c, err := conn.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `SET lock_timeout = '3s'`); err != nil {
		return err
	}
	defer c.ExecContext(context.Background(), `RESET lock_timeout`)
	_, err = c.ExecContext(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+pq.QuoteIdentifier(name))
	return err
}

// retryable reports a lock timeout (55P03) or a deadlock (40P01).
func retryable(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && (pqErr.Code == "55P03" || pqErr.Code == "40P01")
}

// Status lists every migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	st, err := m.p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(st))
	for _, s := range st {
		out = append(out, Status{
			Version:   s.Source.Version,
			File:      s.Source.Path,
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}

// applied copies goose's results; a failed run still reports what it
// applied before the failure.
func applied(res []*goose.MigrationResult) []Applied {
	out := make([]Applied, 0, len(res))
	for _, r := range res {
		if r == nil || r.Source == nil {
			continue
		}
		out = append(out, Applied{Version: r.Source.Version, File: r.Source.Path, Duration: r.Duration})
	}
	return out
}
