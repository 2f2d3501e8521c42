package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/course-supporter/course-supporter/app/postgres"
	"github.com/course-supporter/course-supporter/migrations"
)

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// New returns the DSN of a fresh database, cloned from the migrated
// template, that is dropped when the test ends. Tests that use it may run
// in parallel.
func New(tb testing.TB) string {
	tb.Helper()
	admin, _ := Admin(tb)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(admin) })
	if templateErr != nil {
		tb.Fatalf("prepare template database: %v", templateErr)
	}
	return clone(tb, admin, templateName)
}

// NewEmpty returns a fresh database with no migrations applied.
func NewEmpty(tb testing.TB) string {
	tb.Helper()
	admin, _ := Admin(tb)
	return clone(tb, admin, "template0")
}

func clone(tb testing.TB, admin, template string) string {
	tb.Helper()
	name := "t_" + randomHex(8)
	ctx := context.Background()
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		err = execSQL(ctx, admin, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, quote(name), quote(template)))
		if err == nil || !strings.Contains(err.Error(), "is being accessed by other users") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		if err := execSQL(context.Background(), admin, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, quote(name))); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
	})
	return withDatabase(admin, name)
}

// ensureTemplate builds the migrated template once per migration set. The
// name carries a hash of the migrations, so a changed migration gets a new
// template; an advisory lock stops parallel test binaries building it twice.
func ensureTemplate(admin string) (string, error) {
	name := "cs_tmpl_" + migrationsHash()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect admin: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(7305)`); err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	defer conn.Exec(ctx, `SELECT pg_advisory_unlock(7305)`) //nolint:errcheck // released with the connection anyway
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look up template: %w", err)
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, quote(building))); err != nil {
		return "", fmt.Errorf("drop stale template: %w", err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, quote(building))); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	if err := migrate(ctx, withDatabase(admin, building)); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, quote(building), quote(name))); err != nil {
		return "", fmt.Errorf("publish template: %w", err)
	}
	return name, nil
}

func migrate(ctx context.Context, dsn string) error {
	db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := postgres.NewMigrator(db.SQL, nil)
	if err != nil {
		return err
	}
	return m.Up(ctx, discard{})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func execSQL(ctx context.Context, dsn, stmt string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(fmt.Sprintf("bad admin dsn: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

func quote(ident string) string { return pgx.Identifier{ident}.Sanitize() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
