package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// OneActiveLinkVersion is the migration that heals duplicate active links
// and creates the partial unique index. It is not the latest: tests that
// remove the guarantee migrate down to OneActiveLinkVersion-1 explicitly.
const OneActiveLinkVersion = 4

// Migrator applies the embedded migrations through goose's Provider API; no
// goose type leaves this package. A Postgres session (advisory) lock
// serialises instances that migrate at the same time, so several can start
// together without harm.
type Migrator struct {
	p *goose.Provider
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
	// Retry the lock every second (goose's default is every 5 s) for the
	// same 5 minutes in all: instances starting together wait less.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("migrate: locker: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, conn, FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return &Migrator{p: p}, nil
}

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) ([]Applied, error) {
	res, err := m.p.Up(ctx)
	return applied(res), err
}

// UpTo applies pending migrations up to and including version.
func (m *Migrator) UpTo(ctx context.Context, version int64) ([]Applied, error) {
	res, err := m.p.UpTo(ctx, version)
	return applied(res), err
}

// Down rolls back the latest applied migration.
func (m *Migrator) Down(ctx context.Context) (Applied, error) {
	r, err := m.p.Down(ctx)
	if err != nil {
		return Applied{}, err
	}
	return applied([]*goose.MigrationResult{r})[0], nil
}

// DownTo rolls back every applied migration above version.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]Applied, error) {
	res, err := m.p.DownTo(ctx, version)
	return applied(res), err
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
