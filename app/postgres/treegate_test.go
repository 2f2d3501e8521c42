package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// Ensure writers queued behind one tenant's tree lock do not hold the
// pool: with tenant A's tree locked elsewhere (a slow writer, another
// process) and 20 of A's node creates waiting, only one of them waits
// with a connection, and tenant B's read and write go through at once.
// Before, the 20 writers took every connection of the pool (4 here, 10 by
// default) and B waited until A's lock was released.
func TestTreeWritersWaitWithoutAConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mustOpen(t, testdb.New(t)) // a pool of 4 connections
	enq, err := jobs.NewEnqueuer(db.SQL, jobs.EnqueueOptions{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	nodes := postgres.NewNodeStore(db, enq)
	a, b := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	for _, id := range []uuid.UUID{a, b} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO tenants (id, name) VALUES ($1, $2)`, id, "t-"+id.String()); err != nil {
			t.Fatal(err)
		}
	}
	bRoot, err := nodes.CreateNode(ctx, b, nil, "B", nil)
	if err != nil {
		t.Fatal(err)
	}

	holder, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Rollback(ctx) }) // also when the test fails early
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "tree:"+a.String()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := nodes.CreateNode(ctx, a, nil, fmt.Sprintf("A %d", i), nil); err != nil {
				errs <- err
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // the writers queue

	bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := nodes.GetNode(bctx, b, bRoot.ID); err != nil {
		t.Fatalf("tenant B's read while A's writers wait: %v", err)
	}
	if _, err := nodes.CreateNode(bctx, b, &bRoot.ID, "B child", nil); err != nil {
		t.Fatalf("tenant B's write while A's writers wait: %v", err)
	}
	var waiting int
	if err := db.Pool.QueryRow(bctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if waiting != 1 {
		t.Errorf("%d connections wait for A's tree lock, want 1", waiting)
	}

	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("A's node create: %v", err)
	}
	var made int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM material_nodes WHERE tenant_id = $1`, a).Scan(&made); err != nil {
		t.Fatal(err)
	}
	if made != 20 {
		t.Fatalf("%d of A's 20 nodes created", made)
	}
}
