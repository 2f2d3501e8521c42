package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/jobsconf"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/jobs"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// fairFixture is one tenant with one ingest slot (WORKER_INGEST_TENANT_SLOTS=1)
// and real River records (no worker runs).
type fairFixture struct {
	t      *testing.T
	ctx    context.Context
	db     *postgres.DB
	tenant uuid.UUID
	node   uuid.UUID
	mats   *postgres.MaterialStore
	jobs   *postgres.JobStore
}

func newFairFixture(t *testing.T) *fairFixture {
	t.Helper()
	db := mustOpen(t, testdb.New(t))
	enq, err := jobs.NewEnqueuer(db.SQL, jobs.EnqueueOptions{MaxAttempts: 3, TenantSlots: 1})
	if err != nil {
		t.Fatal(err)
	}
	f := &fairFixture{t: t, ctx: context.Background(), db: db, tenant: uuid.Must(uuid.NewV7()),
		mats: postgres.NewMaterialStore(db, enq), jobs: postgres.NewJobStore(db, enq)}
	if _, err := db.Pool.Exec(f.ctx, `INSERT INTO tenants (id, name) VALUES ($1, $2)`, f.tenant, "t-"+f.tenant.String()); err != nil {
		t.Fatal(err)
	}
	n, err := postgres.NewNodeStore(db, enq).CreateNode(f.ctx, f.tenant, nil, "Course", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.node = n.ID
	return f
}

// ingest creates a web material and returns its ingest job.
func (f *fairFixture) ingest(url string) uuid.UUID {
	f.t.Helper()
	m, err := f.mats.CreateMaterial(f.ctx, f.tenant, course.NewMaterial{NodeID: f.node, SourceType: course.SourceWeb, SourceURL: url})
	if err != nil {
		f.t.Fatal(err)
	}
	return *m.JobID
}

// hasRecord reports whether job holds a River record.
func (f *fairFixture) hasRecord(job uuid.UUID) bool {
	f.t.Helper()
	var has bool
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT queue_job_id IS NOT NULL FROM jobs WHERE id = $1`, job).Scan(&has); err != nil {
		f.t.Fatal(err)
	}
	return has
}

// retries counts the tenant's queued release retries.
func (f *fairFixture) retries() int {
	f.t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND args->>'tenant_id' = $2`,
		jobs.KindTenantRelease, f.tenant.String()).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// lock holds job's row locked, as the reaper's pass or a generation plan
// does, until the returned function is called.
func (f *fairFixture) lock(job uuid.UUID) (unlock func()) {
	f.t.Helper()
	tx, err := f.db.Pool.Begin(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := tx.Exec(f.ctx, `SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE`, job); err != nil {
		f.t.Fatal(err)
	}
	return func() { _ = tx.Rollback(f.ctx) }
}

// Ensure a slot freed while the next waiting job is locked by another
// transaction still reaches it: the finishing transaction skips the
// locked job (waiting could deadlock) and queues a release retry with its
// commit. Before, the job waited for the reaper's next pass (60 s), which
// is what a CI run saw when the reaper's pass held the job.
func TestReleaseSkippingALockedJobIsRetried(t *testing.T) {
	t.Parallel()
	f := newFairFixture(t)
	a, b := f.ingest("https://example.com/a"), f.ingest("https://example.com/b")
	if !f.hasRecord(a) || f.hasRecord(b) {
		t.Fatalf("with one slot, want a queued and b waiting: a %v, b %v", f.hasRecord(a), f.hasRecord(b))
	}

	unlock := f.lock(b)
	if err := f.jobs.FailJob(f.ctx, a, "Download too slow"); err != nil {
		t.Fatal(err)
	}
	if skipped, err := f.jobs.ReleaseTenant(f.ctx, f.tenant); err != nil || !skipped {
		t.Fatalf("ReleaseTenant while b is locked = %v, %v; want skipped", skipped, err)
	}
	unlock()
	if f.hasRecord(b) {
		t.Fatal("b was released although it was locked: the test no longer exercises the skip")
	}
	if n := f.retries(); n != 1 {
		t.Fatalf("%d release retries queued, want 1", n)
	}
	if skipped, err := f.jobs.ReleaseTenant(f.ctx, f.tenant); err != nil || skipped {
		t.Fatalf("ReleaseTenant = %v, %v; want done", skipped, err)
	}
	if !f.hasRecord(b) {
		t.Fatal("the retry did not give b the free slot")
	}

	// Nothing locked: the finishing transaction releases the next job
	// itself and queues no retry.
	c := f.ingest("https://example.com/c")
	if f.hasRecord(c) {
		t.Fatal("c got a record while b holds the slot")
	}
	if err := f.jobs.FailJob(f.ctx, b, "Download too slow"); err != nil {
		t.Fatal(err)
	}
	if !f.hasRecord(c) {
		t.Fatal("finishing b did not release c")
	}
	if n := f.retries(); n != 1 {
		t.Fatalf("%d release retries queued, want still 1", n)
	}
}

// Ensure the worker runs the queued retry: with the reaper's first pass
// done (its next is a minute away), a job skipped while locked gets the
// free slot within seconds.
func TestWorkerRunsTheReleaseRetry(t *testing.T) {
	t.Parallel()
	f := newFairFixture(t)
	r, err := jobs.NewRunner(f.db.SQL, f.db.Pool, jobs.Deps{Reaper: f.jobs}, jobsconf.Defaults(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	within(t, 30*time.Second, "the reaper's first pass", func() bool {
		var n int
		_ = f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM river_job WHERE kind = 'job_reaper' AND state = 'completed'`).Scan(&n)
		return n > 0
	})

	a, b := f.ingest("https://example.com/a"), f.ingest("https://example.com/b")
	unlock := f.lock(b)
	if err := f.jobs.FailJob(f.ctx, a, "Download too slow"); err != nil {
		t.Fatal(err)
	}
	unlock()
	within(t, 10*time.Second, "b to get the slot", func() bool { return f.hasRecord(b) })
}

// within polls cond until it holds or d passes.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
	}
}
