package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// cancelJobs cancels the unfinished jobs matching cond ("Material
// deleted" / "Node deleted"; docs/design/jobs.md, "Cancellation"), their
// queue records
// and, transitively, their dependents, in tx. A worker running one of them
// finds it cancelled when it tries to store its result.
func cancelJobs(ctx context.Context, tx *gorm.DB, ins course.JobQueue, msg, cond string, args ...any) error {
	var rows []jobRow
	err := tx.Raw(`UPDATE jobs SET status = 'cancelled', error_message = ?, completed_at = now(), estimated_at = NULL
		WHERE status IN ('queued', 'active') AND `+cond+` RETURNING *`, append([]any{msg}, args...)...).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("cancel jobs: %w", err)
	}
	js := &JobStore{jobs: ins}
	tenants := map[uuid.UUID]bool{}
	for i := range rows {
		if err := js.cancelQueued(ctx, tx, rows[i].QueueJobID); err != nil {
			return err
		}
		if err := js.propagate(ctx, tx, rows[i].ID); err != nil {
			return err
		}
		if t := rows[i].TenantID; t != nil && rows[i].QueueJobID != nil && !tenants[*t] {
			tenants[*t] = true
			if err := releaseTenant(ctx, tx, ins, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// cancelMaterialJobs cancels the jobs working on one material.
func cancelMaterialJobs(ctx context.Context, tx *gorm.DB, ins course.JobQueue, materialID uuid.UUID, msg string) error {
	return cancelJobs(ctx, tx, ins, msg, "materialentry_id = ?", materialID)
}

// cancelSubtreeJobs cancels the jobs working on any node of a subtree.
func cancelSubtreeJobs(ctx context.Context, tx *gorm.DB, ins course.JobQueue, tenantID, rootID uuid.UUID) error {
	return cancelJobs(ctx, tx, ins, "Node deleted", `tenant_id = ? AND materialnode_id IN (
			WITH RECURSIVE sub AS (
				SELECT id FROM material_nodes WHERE id = ? AND tenant_id = ?
				UNION
				SELECT m.id FROM material_nodes m JOIN sub ON m.parent_materialnode_id = sub.id
			) SELECT id FROM sub)`, tenantID, rootID, tenantID)
}
