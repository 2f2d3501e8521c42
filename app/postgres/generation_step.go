package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

const msgNodeDeleted = "Node deleted"

// StartStep runs the start guard of a generation step. A node deleted
// meanwhile cancels the job (StartGone).
func (s *GenerationStore) StartStep(ctx context.Context, id uuid.UUID) (course.JobStart, *course.StepTask, error) {
	var (
		verdict course.JobStart
		task    *course.StepTask
	)
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		r, err := lockJob(tx, id)
		if course.ErrorCode(err) == course.ENOTFOUND {
			verdict = course.StartStale
			return nil
		}
		if err != nil {
			return err
		}
		alive, err := nodeAlive(tx, r)
		if err != nil {
			return err
		}
		if !alive && (r.Status == course.JobQueued || r.Status == course.JobActive) {
			verdict = course.StartGone
			return s.finish(ctx, tx, r, course.JobCancelled, msgNodeDeleted)
		}
		if verdict, err = s.startGuard(ctx, tx, r); err != nil || verdict != course.StartRun {
			return err
		}
		p, err := readStepParams(r)
		if err != nil {
			return err
		}
		task = &course.StepTask{Job: toJob(r, nil), TenantID: *r.TenantID, NodeID: *r.NodeID,
			RootID: p.RootNodeID, Mode: p.Mode, Step: r.Type}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return verdict, task, nil
}

// nodeAlive reports whether the step's node still exists (locking it
// against a concurrent delete until the transaction ends).
func nodeAlive(tx *gorm.DB, r *jobRow) (bool, error) {
	if r.NodeID == nil || r.TenantID == nil {
		return false, nil
	}
	var ids []uuid.UUID
	if err := tx.Raw(`SELECT id FROM material_nodes WHERE id = ? AND tenant_id = ? FOR SHARE`,
		*r.NodeID, *r.TenantID).Scan(&ids).Error; err != nil {
		return false, fmt.Errorf("check step node: %w", err)
	}
	return len(ids) == 1, nil
}

// CompleteStep stores a step's result in one transaction: the snapshot
// (ON CONFLICT reusing the row that has the same idempotency key) and its
// flattened structure, the job complete with its snapshot, the release
// of its dependents and River's completion through done. A job no longer
// active drops the result; a node deleted meanwhile cancels the job.
func (s *GenerationStore) CompleteStep(ctx context.Context, id uuid.UUID, res *course.StepResult, done course.QueueDone) error {
	return inTx(ctx, s.db, func(tx *gorm.DB) error {
		r, err := lockJob(tx, id)
		if err != nil {
			return err
		}
		if r.Status != course.JobActive {
			return nil
		}
		alive, err := nodeAlive(tx, r)
		if err != nil {
			return err
		}
		if !alive {
			return s.finish(ctx, tx, r, course.JobCancelled, msgNodeDeleted)
		}
		p, err := readStepParams(r)
		if err != nil {
			return err
		}
		snapshot := res.Reused
		if snapshot == nil {
			if snapshot, err = storeSnapshot(tx, r, p, res); err != nil {
				return err
			}
		}
		if err := tx.Exec(`UPDATE jobs SET status = 'complete', completed_at = now(), error_message = NULL,
			estimated_at = NULL, result_snapshot_id = ? WHERE id = ? AND status = 'active'`, *snapshot, id).Error; err != nil {
			return fmt.Errorf("complete step: %w", err)
		}
		if err := s.releaseDependents(ctx, tx, id); err != nil {
			return err
		}
		t, err := txOf(tx)
		if err != nil {
			return err
		}
		return done(ctx, t)
	})
}

// storeSnapshot inserts the snapshot and, when it is new, its structure
// nodes; it returns the id of the row holding the idempotency key.
func storeSnapshot(tx *gorm.DB, r *jobRow, p stepParams, res *course.StepResult) (*uuid.UUID, error) {
	if res.Parsed == nil {
		return nil, errors.New("store snapshot: no structure")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new snapshot id: %w", err)
	}
	st := res.Parsed
	var summary *string
	if st.Summary != "" {
		summary = &st.Summary
	}
	var corrections any
	if len(st.Corrections) > 0 {
		corrections = jsonText(st.Corrections)
	}
	var inserted []uuid.UUID
	if err := tx.Raw(`INSERT INTO structure_snapshots (id, materialnode_id, job_id, externalservicecall_id,
			node_fingerprint, mode, step_type, structure, summary, core_concepts, mentioned_concepts, corrections)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?::jsonb, ?::jsonb, ?::jsonb)
		ON CONFLICT ON CONSTRAINT structure_snapshots_idempotency_key DO NOTHING RETURNING id`,
		id, *r.NodeID, r.ID, res.CallID, res.Fingerprint, p.Mode, r.Type, string(res.Structure), summary,
		jsonText(nonNil(st.CoreConcepts)), jsonText(nonNil(st.MentionedConcepts)), corrections).
		Scan(&inserted).Error; err != nil {
		return nil, fmt.Errorf("insert snapshot: %w", err)
	}
	if len(inserted) == 0 { // a crashed attempt's twin already stored it
		var existing []uuid.UUID
		if err := tx.Raw(`SELECT id FROM structure_snapshots WHERE materialnode_id = ? AND node_fingerprint = ?
			AND mode = ? AND step_type = ?`, *r.NodeID, res.Fingerprint, p.Mode, r.Type).Scan(&existing).Error; err != nil {
			return nil, fmt.Errorf("read existing snapshot: %w", err)
		}
		if len(existing) != 1 {
			return nil, fmt.Errorf("snapshot of job %s: conflicting row not found", r.ID)
		}
		return &existing[0], nil
	}
	if err := storeStructureNodes(tx, id, course.Flatten(st)); err != nil {
		return nil, err
	}
	return &id, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
