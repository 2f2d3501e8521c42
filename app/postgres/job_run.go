package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// maxErrorMessage bounds error_message (docs/design/jobs.md, "Error messages").
const maxErrorMessage = 2000

func clip(msg string) string {
	r := []rune(msg)
	if len(r) > maxErrorMessage {
		return string(r[:maxErrorMessage])
	}
	return msg
}

// lockJob reads job id FOR UPDATE; ENOTFOUND when it is gone.
func lockJob(tx *gorm.DB, id uuid.UUID) (*jobRow, error) {
	var r jobRow
	err := tx.Clauses(forUpdate()).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errJobNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("lock job: %w", err)
	}
	return &r, nil
}

// startGuard runs the start guard (docs/design/jobs.md, "Start guard")
// on a locked job: final →
// stale; a failed or cancelled dependency → the job fails now (with
// propagation); an unfinished one → wait. Otherwise the job becomes
// active, its attempt counted.
func (s *JobStore) startGuard(ctx context.Context, tx *gorm.DB, r *jobRow) (course.JobStart, error) {
	if r.Status != course.JobQueued && r.Status != course.JobActive {
		return course.StartStale, nil
	}
	failed, done, err := dependencyState(tx, r.ID)
	switch {
	case err != nil:
		return 0, err
	case failed != nil:
		if err := s.finish(ctx, tx, r, course.JobFailed, dependencyFailed(*failed)); err != nil {
			return 0, err
		}
		return course.StartFailed, nil
	case !done:
		return course.StartWait, nil
	}
	if err := tx.Exec(`UPDATE jobs SET status = 'active', attempt = attempt + 1,
		started_at = COALESCE(started_at, now()), estimated_at = NULL WHERE id = ?`, r.ID).Error; err != nil {
		return 0, fmt.Errorf("mark job active: %w", err)
	}
	r.Status = course.JobActive
	r.Attempt++
	return course.StartRun, nil
}

// dependencyState reads a job's dependencies: the first (by id) that
// failed or was cancelled, else whether all of them are complete.
func dependencyState(tx *gorm.DB, id uuid.UUID) (failed *uuid.UUID, done bool, err error) {
	var deps []struct {
		ID     uuid.UUID
		Status string
	}
	if err := tx.Raw(`SELECT j.id, j.status FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on_job_id
		WHERE d.job_id = ? ORDER BY j.id`, id).Scan(&deps).Error; err != nil {
		return nil, false, fmt.Errorf("load dependencies: %w", err)
	}
	done = true
	for _, d := range deps {
		switch d.Status {
		case course.JobFailed, course.JobCancelled:
			return &d.ID, false, nil
		case course.JobComplete:
		default:
			done = false
		}
	}
	return nil, done, nil
}

func dependencyFailed(id uuid.UUID) string { return fmt.Sprintf("Dependency %s failed", id) }

// finish moves an unfinished job to a final status with msg, clears the
// in-flight link of its material (recording the failure there), and
// fails every dependent transitively (docs/design/jobs.md, "Dependencies").
func (s *JobStore) finish(ctx context.Context, tx *gorm.DB, r *jobRow, status, msg string) error {
	res := tx.Exec(`UPDATE jobs SET status = ?, error_message = ?, completed_at = now(), estimated_at = NULL
		WHERE id = ? AND status IN ('queued', 'active')`, status, clip(msg), r.ID)
	if res.Error != nil {
		return fmt.Errorf("finish job: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("finish job %s: not unfinished (status %s)", r.ID, r.Status)
	}
	if r.MaterialID != nil && r.Type == course.JobIngest {
		if err := releaseMaterial(tx, r.ID, *r.MaterialID, status, msg); err != nil {
			return err
		}
		if err := releaseTenant(ctx, tx, s.jobs, r.TenantID); err != nil {
			return err
		}
	}
	return s.propagate(ctx, tx, r.ID)
}

// releaseMaterial clears the material's in-flight link to job; a failed
// job leaves its message on the material (state error), a cancelled one
// leaves the material as it was before.
func releaseMaterial(tx *gorm.DB, jobID, materialID uuid.UUID, status, msg string) error {
	q := `UPDATE material_entries SET job_id = NULL, pending_since = NULL WHERE id = ? AND job_id = ?
		RETURNING tenant_id, materialnode_id`
	args := []any{materialID, jobID}
	if status == course.JobFailed {
		q = `UPDATE material_entries SET job_id = NULL, pending_since = NULL, error_message = ?
			WHERE id = ? AND job_id = ? RETURNING tenant_id, materialnode_id`
		args = append([]any{clip(msg)}, args...)
	}
	var owner []struct {
		TenantID       uuid.UUID
		MaterialnodeID uuid.UUID
	}
	if err := tx.Raw(q, args...).Scan(&owner).Error; err != nil {
		return fmt.Errorf("release material: %w", err)
	}
	for _, o := range owner {
		if err := invalidateChain(tx, o.TenantID, o.MaterialnodeID); err != nil {
			return err
		}
	}
	if len(owner) == 0 {
		return nil
	}
	return revalidateBlockedBy(tx, materialID) // mappings waiting for this material
}

// propagate fails, breadth first, every unfinished job that depends on a
// failed or cancelled one, naming its immediate failed dependency, and
// cancels their queue records.
func (s *JobStore) propagate(ctx context.Context, tx *gorm.DB, failed uuid.UUID) error {
	frontier := []uuid.UUID{failed}
	for len(frontier) > 0 {
		var next []uuid.UUID
		for _, f := range frontier {
			var rows []jobRow
			if err := tx.Raw(`UPDATE jobs j SET status = 'failed', error_message = ?, completed_at = now(), estimated_at = NULL
				FROM job_dependencies d
				WHERE d.depends_on_job_id = ? AND d.job_id = j.id AND j.status IN ('queued', 'active')
				RETURNING j.*`, dependencyFailed(f), f).Scan(&rows).Error; err != nil {
				return fmt.Errorf("propagate failure: %w", err)
			}
			for i := range rows {
				r := &rows[i]
				if r.MaterialID != nil && r.Type == course.JobIngest {
					if err := releaseMaterial(tx, r.ID, *r.MaterialID, course.JobFailed, dependencyFailed(f)); err != nil {
						return err
					}
				}
				if err := s.cancelQueued(ctx, tx, r.QueueJobID); err != nil {
					return err
				}
				next = append(next, r.ID)
			}
		}
		frontier = next
	}
	return nil
}

// cancelQueued cancels a job's queue record, if it has one, in tx.
func (s *JobStore) cancelQueued(ctx context.Context, tx *gorm.DB, qid *int64) error {
	if qid == nil || s.jobs == nil {
		return nil
	}
	t, err := txOf(tx)
	if err != nil {
		return err
	}
	return s.jobs.Unschedule(ctx, t, course.QueueRef(*qid))
}

// RequeueJob records a retryable failure: the job goes back to queued
// with the error and the time of the next attempt.
func (s *JobStore) RequeueJob(ctx context.Context, id uuid.UUID, msg string, next time.Time) error {
	return inTx(ctx, s.db, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE jobs SET status = 'queued', error_message = ?, estimated_at = ?
			WHERE id = ? AND status = 'active'`, clip(msg), next.UTC(), id)
		if res.Error != nil {
			return fmt.Errorf("requeue job: %w", res.Error)
		}
		return nil // not active: finished or cancelled meanwhile; nothing to undo
	})
}

// InterruptJob returns an attempt cut short by a worker shutdown to the
// queue without counting it: the job did nothing wrong.
func (s *JobStore) InterruptJob(ctx context.Context, id uuid.UUID, next time.Time) error {
	err := s.db.Gorm.WithContext(ctx).Exec(`UPDATE jobs SET status = 'queued', attempt = GREATEST(attempt - 1, 0),
		estimated_at = ? WHERE id = ? AND status = 'active'`, next.UTC(), id).Error
	if err != nil {
		return fmt.Errorf("interrupt job: %w", err)
	}
	return nil
}

// FailJob records a final failure with propagation.
func (s *JobStore) FailJob(ctx context.Context, id uuid.UUID, msg string) error {
	return s.end(ctx, id, course.JobFailed, msg)
}

// CancelJob ends a job whose target vanished.
func (s *JobStore) CancelJob(ctx context.Context, id uuid.UUID, msg string) error {
	return s.end(ctx, id, course.JobCancelled, msg)
}

func (s *JobStore) end(ctx context.Context, id uuid.UUID, status, msg string) error {
	return inTx(ctx, s.db, func(tx *gorm.DB) error {
		r, err := lockJob(tx, id)
		if err != nil {
			return err
		}
		if r.Status != course.JobQueued && r.Status != course.JobActive {
			return nil // already final: a late duplicate
		}
		return s.finish(ctx, tx, r, status, msg)
	})
}

// DeferJob records that the heavy-work window snoozed a job: it is queued
// (a crash-rescued job may still read active) until at.
func (s *JobStore) DeferJob(ctx context.Context, id uuid.UUID, at time.Time) error {
	err := s.db.Gorm.WithContext(ctx).Exec(`UPDATE jobs SET status = 'queued', estimated_at = ?
		WHERE id = ? AND status IN ('queued', 'active')`, at.UTC(), id).Error
	if err != nil {
		return fmt.Errorf("defer job: %w", err)
	}
	return nil
}
