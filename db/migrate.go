package db

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/shortlinks/shortlinks/migrations"
)

// OneActiveLinkVersion is the migration that heals duplicate active links
// and creates the partial unique index. It is no longer the latest: undo
// the guarantee with DownTo(OneActiveLinkVersion-1).
const OneActiveLinkVersion = 4

// Migrator applies the embedded migrations through goose's Provider API.
// A Postgres session (advisory) lock serialises instances that migrate at
// the same time, so several can start together without harm.
type Migrator struct {
	p *goose.Provider
}

// NewMigrator returns a Migrator for conn.
func NewMigrator(conn *sql.DB, log *slog.Logger) (*Migrator, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("migrate: locker: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, conn, migrations.FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return &Migrator{p: p}, nil
}

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) ([]*goose.MigrationResult, error) {
	return m.p.Up(ctx)
}

// UpTo applies pending migrations up to and including version.
func (m *Migrator) UpTo(ctx context.Context, version int64) ([]*goose.MigrationResult, error) {
	return m.p.UpTo(ctx, version)
}

// Down rolls back the latest applied migration.
func (m *Migrator) Down(ctx context.Context) (*goose.MigrationResult, error) {
	return m.p.Down(ctx)
}

// DownTo rolls back every applied migration above version.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]*goose.MigrationResult, error) {
	return m.p.DownTo(ctx, version)
}

// Status lists every migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	return m.p.Status(ctx)
}

// Version returns the current database version.
func (m *Migrator) Version(ctx context.Context) (int64, error) {
	return m.p.GetDBVersion(ctx)
}
