package postgres_test

import (
	"bytes"
	"context"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
	"github.com/course-supporter/course-supporter/migrations"
)

func mustOpen(t testing.TB, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// Ensure migrations apply up, down and up again on an empty database.
func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.NewEmpty(t))
	ctx := context.Background()
	m, err := postgres.NewMigrator(db.SQL, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := m.Up(ctx, &out); err != nil {
		t.Fatal(err)
	}
	top, err := m.Version(ctx)
	if err != nil || top < 1 {
		t.Fatalf("version %d, %v", top, err)
	}
	// One step per file: numbers may have gaps while parallel branches merge.
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Down(ctx, &out, len(files)); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Version(ctx); v != 0 {
		t.Fatalf("after down: version %d", v)
	}
	if err := m.Up(ctx, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := m.Status(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "pending") || !strings.Contains(out.String(), "00001_extensions.sql") {
		t.Fatalf("status:\n%s", out.String())
	}
}

// Ensure two processes migrating at once are serialised by the advisory
// lock: both succeed and each migration is recorded exactly once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewEmpty(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			m, err := postgres.NewMigrator(db.SQL, nil)
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = m.Up(ctx, &bytes.Buffer{})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db := mustOpen(t, dsn)
	var dup int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT version_id FROM goose_db_version
		WHERE version_id > 0 GROUP BY version_id HAVING count(*) > 1) d`).Scan(&dup)
	if err != nil || dup != 0 {
		t.Fatalf("duplicated migrations: %d (%v)", dup, err)
	}
}

// Ensure the health check reports a stopped server as a failure, not ok.
func TestCheckFailsWhenServerIsGone(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, "postgres://x:y@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	err := db.Check(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "Unavailable") {
		t.Fatalf("want Unavailable, got %v", err)
	}
}
