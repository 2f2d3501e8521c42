package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/course-supporter/course-supporter/app/course"
)

// KindTenantRelease is the River kind of a fair-share release retry.
const KindTenantRelease = "tenant_release"

// Fair-share release retries (docs/design/jobs.md, "Fair share"): the
// transaction that finishes a tenant's ingest job skips waiting jobs
// another transaction holds locked, and queues this job so the free slot
// is handed out within seconds instead of at the reaper's next pass.
const (
	// releaseRetry is how long a retry that skipped again snoozes: the
	// locks it meets belong to short transactions.
	releaseRetry = time.Second
	// releaseGiveUp is how long after its insert a retry stops snoozing;
	// the reaper's pass releases what is left.
	releaseGiveUp = time.Minute
)

// TenantReleaseArgs names the tenant whose waiting ingest jobs to release.
type TenantReleaseArgs struct {
	TenantID uuid.UUID `json:"tenant_id"`
}

// Kind implements river.JobArgs.
func (TenantReleaseArgs) Kind() string { return KindTenantRelease }

// InsertOpts puts the retry on the maintenance queue; a failed pass is
// retried a few times (the reaper remains the backstop).
func (TenantReleaseArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 3}
}

// ScheduleRelease implements course.JobQueue: the retry commits with tx,
// so it exists exactly when the finished job that freed the slot does.
func (e *Enqueuer) ScheduleRelease(ctx context.Context, tx course.Tx, tenant uuid.UUID) error {
	t, err := sqlTx(tx)
	if err != nil {
		return err
	}
	if _, err := e.client.InsertTx(ctx, t, TenantReleaseArgs{TenantID: tenant}, nil); err != nil {
		return fmt.Errorf("enqueue tenant release: %w", err)
	}
	return nil
}

// TenantReleaseWorker retries a tenant's release until nothing waiting is
// held locked any more, or releaseGiveUp has passed.
type TenantReleaseWorker struct {
	river.WorkerDefaults[TenantReleaseArgs]
	Store Reaper
}

// Work releases and snoozes while a waiting job was skipped again.
func (w *TenantReleaseWorker) Work(ctx context.Context, job *river.Job[TenantReleaseArgs]) error {
	skipped, err := w.Store.ReleaseTenant(ctx, job.Args.TenantID)
	if err != nil {
		return fmt.Errorf("release tenant %s: %w", job.Args.TenantID, err)
	}
	if skipped && time.Since(job.CreatedAt) < releaseGiveUp {
		return river.JobSnooze(releaseRetry)
	}
	return nil
}

// Timeout bounds one pass: a few short queries.
func (w *TenantReleaseWorker) Timeout(*river.Job[TenantReleaseArgs]) time.Duration {
	return 30 * time.Second
}
