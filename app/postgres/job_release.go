package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// releaseDependents gives each waiting dependent of the job completing in
// tx its queue record once all its dependencies are complete, in the
// completing transaction (docs/design/jobs.md, "Dependencies"): a chain
// of steps runs without waiting for the reaper. Each dependent is locked
// before its dependencies are read, so two dependencies completing at
// once cannot both release it, nor both miss it.
func (s *JobStore) releaseDependents(ctx context.Context, tx *gorm.DB, id uuid.UUID) error {
	var waiting []uuid.UUID
	if err := tx.Raw(`SELECT d.job_id FROM job_dependencies d JOIN jobs j ON j.id = d.job_id
		WHERE d.depends_on_job_id = ? AND j.status = 'queued' AND j.queue_job_id IS NULL
		ORDER BY d.job_id`, id).Scan(&waiting).Error; err != nil {
		return fmt.Errorf("load dependents: %w", err)
	}
	for _, dep := range waiting {
		r, err := lockJob(tx, dep)
		if course.ErrorCode(err) == course.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		if r.Status != course.JobQueued || r.QueueJobID != nil {
			continue // released or finished by someone else meanwhile
		}
		failed, done, err := dependencyState(tx, dep)
		if err != nil {
			return err
		}
		if failed != nil || !done {
			continue
		}
		if _, err := s.release(ctx, tx, r); err != nil {
			return err
		}
	}
	return nil
}
