package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// Ensure the vector search statement orders by the expression of the
// HNSW index the migrations build, so PostgreSQL scans that index: a
// statement and an index of different forms would silently fall back to
// an exact scan of every chunk.
func TestVectorSearchUsesMigratedIndex(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, testdb.New(t))
	ctx := context.Background()
	var indexes []string
	rows, err := db.Pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE tablename = 'material_chunks' AND indexdef LIKE '%hnsw%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		indexes = append(indexes, n)
	}
	// The vector-form index stays for one release (migration 00011 only
	// expands); the statement must use the half one.
	if rows.Err() != nil || !slices.Contains(indexes, "material_chunks_embedding_half_idx") {
		t.Fatalf("hnsw indexes %v (%v)", indexes, rows.Err())
	}
	settings, sql := postgres.NewSearchStore(db, 100).VectorSQL("")
	var plan string
	err = pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, settings+`, set_config('enable_seqscan', 'off', true)`); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, pgx.QueryExecModeExec, uuid.New(), uuid.New(),
			postgres.VectorLiteral(make([]float32, 1536)), "m", 10).Scan(&plan)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "material_chunks_embedding_half_idx") {
		t.Errorf("plan does not scan the HNSW index: %s", plan)
	}
}
