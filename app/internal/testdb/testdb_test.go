package testdb_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

// Ensure the integration tests really run on PostgreSQL 17 with pgvector
// 0.8 or newer, whichever way the server was found.
func TestServerIsPostgres17WithVector(t *testing.T) {
	t.Parallel()
	dsn := testdb.New(t)
	_, from := testdb.Admin(t)
	t.Logf("test database from %s", from)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var major int
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int / 10000`).Scan(&major); err != nil {
		t.Fatal(err)
	}
	if major != 17 {
		t.Fatalf("server major version %d, want 17", major)
	}
	var atLeast bool
	err = conn.QueryRow(ctx, `SELECT string_to_array(extversion, '.')::int[] >= '{0,8}'
		FROM pg_extension WHERE extname = 'vector'`).Scan(&atLeast)
	if err != nil {
		t.Fatalf("vector extension missing from the migrated database: %v", err)
	}
	if !atLeast {
		t.Fatal("vector extension older than 0.8")
	}
	var dist float64
	if err := conn.QueryRow(ctx, `SELECT '[1,0]'::vector <=> '[0,1]'::vector`).Scan(&dist); err != nil || dist != 1 {
		t.Fatalf("cosine distance = %v, %v", dist, err)
	}
}

// Ensure each test gets its own database, so tests can run in parallel.
func TestDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := testdb.New(t), testdb.New(t)
	if a == b {
		t.Fatal("two tests share one database")
	}
	ctx := context.Background()
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, `CREATE TABLE only_in_a (x int)`); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var n int
	if err := cb.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("table leaked across databases: n=%d err=%v", n, err)
	}
}
