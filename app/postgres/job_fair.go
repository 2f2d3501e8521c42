package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// Fair share of the ingest queue (docs/design/jobs.md, "Fair share"). The
// jobs row is the source of truth: at most JobQueue.TenantSlots() ingest
// jobs of one tenant hold a queue record at a time; the others stay queued
// without one (queue_job_id NULL) and are released, oldest first, in the
// transaction that finishes one of the tenant's jobs. River works records
// in insertion order, so with every tenant bounded, tenants interleave:
// another tenant's backlog delays a new document by at most the jobs
// already running.

// slotFree reports whether job r may get a queue record now. It takes a
// transaction-scoped lock per tenant first, so two concurrent inserts of
// one tenant cannot both take the last slot.
func slotFree(tx *gorm.DB, jobs course.JobQueue, r *jobRow) (bool, error) {
	limit := jobs.TenantSlots()
	if limit <= 0 || r.TenantID == nil || r.Type != course.JobIngest {
		return true, nil
	}
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended('ingest-slots:' || ?::text, 0))`,
		r.TenantID.String()).Error; err != nil {
		return false, fmt.Errorf("lock tenant slots: %w", err)
	}
	var held int
	if err := tx.Raw(`SELECT count(*) FROM jobs WHERE tenant_id = ? AND job_type = 'ingest'
		AND status IN ('queued', 'active') AND queue_job_id IS NOT NULL AND id <> ?`,
		*r.TenantID, r.ID).Scan(&held).Error; err != nil {
		return false, fmt.Errorf("count tenant slots: %w", err)
	}
	return held < limit, nil
}

// releaseTenant gives the tenant's oldest waiting ingest jobs (no queue
// record, dependencies complete) the slots that are free now. Called in
// the transaction that finished one of the tenant's jobs. A waiting job
// another transaction holds locked (the reaper's pass, a generation
// plan) is skipped rather than waited for, which could deadlock; that
// holder may not release it, so a retry is queued to run after this
// transaction commits (ReleaseTenant).
func releaseTenant(ctx context.Context, tx *gorm.DB, jobs course.JobQueue, tenant *uuid.UUID) error {
	skipped, err := releaseWaiting(ctx, tx, jobs, tenant)
	if err != nil || !skipped {
		return err
	}
	t, err := txOf(tx)
	if err != nil {
		return err
	}
	return jobs.ScheduleRelease(ctx, t, *tenant)
}

// releaseWaiting is releaseTenant without the retry: it reports whether
// a waiting job was skipped because another transaction held it locked
// while a slot may still be free.
func releaseWaiting(ctx context.Context, tx *gorm.DB, jobs course.JobQueue, tenant *uuid.UUID) (bool, error) {
	if jobs == nil || jobs.TenantSlots() <= 0 || tenant == nil {
		return false, nil
	}
	const waitingJobs = `FROM jobs j WHERE j.tenant_id = ? AND j.job_type = 'ingest'
			AND j.status = 'queued' AND j.queue_job_id IS NULL
			AND NOT EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs dj ON dj.id = d.depends_on_job_id
				WHERE d.job_id = j.id AND dj.status <> 'complete')`
	var waiting []jobRow
	if err := tx.Raw(`SELECT j.* `+waitingJobs+` ORDER BY j.queued_at, j.id LIMIT ? FOR UPDATE OF j SKIP LOCKED`,
		*tenant, jobs.TenantSlots()).Scan(&waiting).Error; err != nil {
		return false, fmt.Errorf("load waiting jobs: %w", err)
	}
	for i := range waiting {
		ok, err := schedule(ctx, tx, jobs, &waiting[i])
		if err != nil || !ok {
			return false, err // no slot left (or no worker): the rest keep waiting
		}
	}
	if len(waiting) == jobs.TenantSlots() {
		return false, nil // as many candidates as slots: every free slot was offered one
	}
	// Fewer candidates than slots and each got one: a waiting job still
	// seen without the lock is one SKIP LOCKED passed over.
	var skipped bool
	if err := tx.Raw(`SELECT EXISTS (SELECT 1 `+waitingJobs+`)`, *tenant).Scan(&skipped).Error; err != nil {
		return false, fmt.Errorf("look for locked waiting jobs: %w", err)
	}
	return skipped, nil
}

// ReleaseTenant retries a release that skipped a locked waiting job
// (course.JobReaper; docs/design/jobs.md, "Fair share"). It reports
// whether one was skipped again.
func (s *JobStore) ReleaseTenant(ctx context.Context, tenant uuid.UUID) (bool, error) {
	var skipped bool
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		skipped, err = releaseWaiting(ctx, tx, s.jobs, &tenant)
		return err
	})
	return skipped, err
}

// msgWorkerDied is the error River records on a record taken back from a
// dead worker.
const msgWorkerDied = "worker heartbeat stale: taken back from a dead worker"

// RescueDeadWorkers makes the running River jobs of workers whose
// heartbeat is older than staleAfter available again at once (discarded
// when their attempts are used up), instead of after River's rescuer
// (WORKER_JOB_TIMEOUT + WORKER_RESCUE_GRACE: 6 h 15 min for media). Only
// workers that wrote a heartbeat are judged; Reap then requeues or fails
// the business jobs. The heartbeat row is deleted, so a worker is judged
// once.
func (s *JobStore) RescueDeadWorkers(ctx context.Context, staleAfter time.Duration) (int, error) {
	var n int
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		var dead []string
		if err := tx.Raw(`DELETE FROM worker_heartbeats WHERE last_seen_at < now() - make_interval(secs => ?)
			RETURNING worker_id`, staleAfter.Seconds()).Scan(&dead).Error; err != nil {
			return fmt.Errorf("find dead workers: %w", err)
		}
		if len(dead) == 0 {
			return nil
		}
		res := tx.Exec(`UPDATE river_job SET
				state = CASE WHEN attempt < max_attempts THEN 'available'::river_job_state ELSE 'discarded'::river_job_state END,
				finalized_at = CASE WHEN attempt < max_attempts THEN NULL ELSE now() END,
				scheduled_at = now(),
				errors = array_append(errors, jsonb_build_object('at', now(), 'attempt', attempt,
					'error', ?::text, 'trace', ''))
			WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] IN ?`,
			msgWorkerDied, dead)
		if res.Error != nil {
			return fmt.Errorf("take back dead workers' jobs: %w", res.Error)
		}
		n = int(res.RowsAffected)
		return nil
	})
	return n, err
}
