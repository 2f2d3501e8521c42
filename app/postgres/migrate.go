package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/course-supporter/course-supporter/migrations"
)

// migrateLockID is the advisory lock key every migrating process takes, so
// two deploys (or a deploy and an operator) can never migrate at once.
const migrateLockID int64 = 0x63735f6d6967 // "cs_mig"

// Migrator applies the embedded goose migrations under a session-level
// PostgreSQL advisory lock.
type Migrator struct {
	provider *goose.Provider
}

// NewMigrator prepares a migrator on db. fsys overrides the embedded files
// (tests); nil means the migrations compiled into the binary.
func NewMigrator(db *sql.DB, fsys fs.FS) (*Migrator, error) {
	if fsys == nil {
		fsys = migrations.FS
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrateLockID),
		lock.WithLockTimeout(1, 600)) // poll each second, up to 10 minutes, for another migrator
	if err != nil {
		return nil, fmt.Errorf("migration locker: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("migration provider: %w", err)
	}
	return &Migrator{provider: p}, nil
}

// Up applies every pending migration and reports each one to w.
func (m *Migrator) Up(ctx context.Context, w io.Writer) error {
	res, err := m.provider.Up(ctx)
	for _, r := range res {
		fmt.Fprintf(w, "applied %s (%s)\n", r.Source.Path, r.Duration.Round(1e6))
	}
	if err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	if len(res) == 0 {
		fmt.Fprintln(w, "no pending migrations")
	}
	return nil
}

// Down rolls back the newest n migrations.
func (m *Migrator) Down(ctx context.Context, w io.Writer, n int) error {
	for i := 0; i < n; i++ {
		r, err := m.provider.Down(ctx)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		fmt.Fprintf(w, "rolled back %s\n", r.Source.Path)
	}
	return nil
}

// Status writes one line per known migration.
func (m *Migrator) Status(ctx context.Context, w io.Writer) error {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return fmt.Errorf("migrate status: %w", err)
	}
	for _, s := range st {
		applied := "pending"
		if s.State == goose.StateApplied {
			applied = "applied " + s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		fmt.Fprintf(w, "%-40s %s\n", s.Source.Path, applied)
	}
	return nil
}

// Version returns the current schema version.
func (m *Migrator) Version(ctx context.Context) (int64, error) {
	v, err := m.provider.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate version: %w", err)
	}
	return v, nil
}
