package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// Ensure a transaction PostgreSQL aborts as a deadlock victim is run
// again, so two crossing writers both succeed instead of one failing (the
// load test saw this as 500s on node moves crossing a worker's
// fingerprint invalidation).
func TestInTxRetriesDeadlockVictim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := postgres.Open(ctx, testdb.New(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE probe (id int PRIMARY KEY, v int NOT NULL);
		INSERT INTO probe VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	// Each writer locks its first row, waits until the other holds its
	// own, then wants the other's: a deadlock, on the first run only.
	var runs atomic.Int32
	var held sync.WaitGroup
	held.Add(2)
	writer := func(first, second int) func(tx *gorm.DB) error {
		once := sync.Once{}
		return func(tx *gorm.DB) error {
			runs.Add(1)
			if err := tx.Exec(`UPDATE probe SET v = v + 1 WHERE id = ?`, first).Error; err != nil {
				return err
			}
			once.Do(func() { held.Done(); held.Wait() })
			return tx.Exec(`UPDATE probe SET v = v + 1 WHERE id = ?`, second).Error
		}
	}
	errs := make(chan error, 2)
	for _, w := range []func(*gorm.DB) error{writer(1, 2), writer(2, 1)} {
		go func() { errs <- postgres.InTx(ctx, db, w) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a writer failed: %v", err)
		}
	}
	// At least one victim was run again; a rerun may cross the other
	// writer once more on a loaded machine, which the retries also absorb.
	if n := runs.Load(); n < 3 {
		t.Fatalf("%d runs, want at least 3 (two writers, the deadlock victim run again)", n)
	}
	var sum int
	if err := db.Pool.QueryRow(ctx, `SELECT sum(v) FROM probe`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 4 {
		t.Fatalf("sum %d, want 4: each writer's two updates committed once", sum)
	}
}
