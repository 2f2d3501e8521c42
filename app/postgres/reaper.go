package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// Reaper messages (docs/design/jobs.md, "Reaper").
const (
	msgJobLost     = "Job lost: queue record finished without a result"
	msgWaitTooLong = "Dependencies did not complete in time"
)

// lostAfter is how long a business job may outlive its queue record
// (finished or missing) before it is declared lost: long enough for the
// worker's own final transaction to land first.
const lostAfter = 2 * time.Minute

// Reap repairs what crashes leave behind, so no job stays queued or
// active forever (docs/design/jobs.md, "Reaper"): active jobs whose queue record
// waits for a retry go back to queued; jobs whose queue record finished or
// vanished without a result fail; waiting jobs whose dependencies failed
// fail, those waiting longer than maxWait expire and those whose
// dependencies completed are released; materials left pointing at a
// finished job are unlocked; pending mappings whose materials settled are
// re-validated.
func (s *JobStore) Reap(ctx context.Context, maxWait time.Duration) (course.ReapStats, error) {
	var st course.ReapStats
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		// Both rows are locked, so a job a worker starts meanwhile is
		// re-checked against River's current state, not the snapshot's
		// (River's fetch skips locked rows).
		res := tx.Exec(`UPDATE jobs j SET status = 'queued', estimated_at = c.scheduled_at
			FROM (SELECT j.id, r.scheduled_at FROM jobs j JOIN river_job r ON r.id = j.queue_job_id
				WHERE j.status = 'active' AND r.state IN ('available', 'scheduled', 'retryable')
				FOR UPDATE OF j, r) c
			WHERE j.id = c.id`)
		if res.Error != nil {
			return fmt.Errorf("requeue rescued jobs: %w", res.Error)
		}
		st.Requeued = int(res.RowsAffected)
		return nil
	})
	if err != nil {
		return st, err
	}
	lost, err := s.pick(ctx, `SELECT j.id FROM jobs j LEFT JOIN river_job r ON r.id = j.queue_job_id
		WHERE j.status IN ('queued', 'active') AND j.queue_job_id IS NOT NULL
		  AND ((r.id IS NULL AND j.updated_at < now() - ?::interval)
		    OR (r.state IN ('completed', 'discarded', 'cancelled') AND r.finalized_at < now() - ?::interval))`,
		lostAfter.String(), lostAfter.String())
	if err != nil {
		return st, err
	}
	for _, id := range lost {
		if err := s.FailJob(ctx, id, msgJobLost); err != nil {
			return st, err
		}
	}
	st.Lost = len(lost)
	if err := s.reapWaiting(ctx, maxWait, &st); err != nil {
		return st, err
	}
	n, err := s.unlockMaterials(ctx)
	st.MaterialsFixed = n
	if err != nil {
		return st, err
	}
	st.MappingsRevalidated, err = s.revalidateSettled(ctx)
	return st, err
}

// pick runs a query returning job ids.
func (s *JobStore) pick(ctx context.Context, q string, args ...any) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := s.db.Gorm.WithContext(ctx).Raw(q, args...).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("reaper query: %w", err)
	}
	return ids, nil
}

// reapWaiting handles jobs waiting for dependencies (no queue record).
func (s *JobStore) reapWaiting(ctx context.Context, maxWait time.Duration, st *course.ReapStats) error {
	waiting, err := s.pick(ctx, `SELECT id FROM jobs WHERE status = 'queued' AND queue_job_id IS NULL ORDER BY queued_at`)
	if err != nil {
		return err
	}
	for _, id := range waiting {
		err := inTx(ctx, s.db, func(tx *gorm.DB) error {
			r, err := lockJob(tx, id)
			if err != nil || r.Status != course.JobQueued || r.QueueJobID != nil {
				return err
			}
			failed, done, err := dependencyState(tx, id)
			if err != nil {
				return err
			}
			if failed != nil {
				st.DependencyFailed++
				return s.finish(ctx, tx, r, course.JobFailed, dependencyFailed(*failed))
			}
			if !done {
				if time.Since(r.QueuedAt) > maxWait {
					st.Expired++
					return s.finish(ctx, tx, r, course.JobFailed, msgWaitTooLong)
				}
				return nil
			}
			released, err := s.release(ctx, tx, r)
			if released {
				st.Released++
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// release gives a waiting job whose dependencies are all complete its
// queue record; a type the queue has no worker for yet stays waiting.
func (s *JobStore) release(ctx context.Context, tx *gorm.DB, r *jobRow) (bool, error) {
	return schedule(ctx, tx, s.jobs, r)
}

// unlockMaterials clears materials whose in-flight job is final; a job
// that did not complete leaves its error on the material.
func (s *JobStore) unlockMaterials(ctx context.Context) (int, error) {
	var fixed []struct {
		TenantID       uuid.UUID
		MaterialnodeID uuid.UUID
	}
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Raw(`UPDATE material_entries m SET job_id = NULL, pending_since = NULL,
				error_message = CASE WHEN j.status = 'complete' THEN m.error_message
					ELSE COALESCE(NULLIF(j.error_message, ''), 'Ingest job ' || j.id || ' did not complete') END
			FROM jobs j
			WHERE m.job_id = j.id AND j.status IN ('complete', 'failed', 'cancelled')
			RETURNING m.tenant_id, m.materialnode_id`).Scan(&fixed).Error; err != nil {
			return fmt.Errorf("unlock materials: %w", err)
		}
		for _, f := range fixed {
			if err := invalidateChain(tx, f.TenantID, f.MaterialnodeID); err != nil {
				return err
			}
		}
		return nil
	})
	return len(fixed), err
}
