package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// Embed jobs (docs/design/search.md): one per material whose chunks lack
// vectors of the current model, created in the transaction that stored
// the chunks or by embed_backfill.

var (
	_ course.EmbedLifecycle = (*JobStore)(nil)
	_ course.EmbedBackfill  = (*JobStore)(nil)
)

// WithEmbeddings makes ingest completions schedule embed jobs for chunks
// lacking vectors of model ("" = embeddings off, the default).
func (s *JobStore) WithEmbeddings(model string) *JobStore {
	s.embedModel = model
	return s
}

// embedParams are the input_params of an embed job.
type embedParams struct {
	MaterialID uuid.UUID `json:"material_id"`
	Model      string    `json:"model"`
}

// scheduleEmbed is the ingest completion's hook: in the same transaction,
// an embed job for material m when embeddings are on, some chunk lacks a
// vector of the current model, and no embed job of m is already waiting
// (it will read the chunks when it runs).
func (s *JobStore) scheduleEmbed(ctx context.Context, tx *gorm.DB, m *materialRow) error {
	if s.embedModel == "" {
		return nil
	}
	var need bool
	if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM material_chunks WHERE materialentry_id = @m
			AND (embedding IS NULL OR embedding_model IS DISTINCT FROM @model))
		AND NOT EXISTS (SELECT 1 FROM jobs WHERE materialentry_id = @m AND job_type = 'embed' AND status = 'queued')`,
		map[string]any{"m": m.ID, "model": s.embedModel}).Scan(&need).Error; err != nil {
		return fmt.Errorf("check unembedded chunks: %w", err)
	}
	if !need {
		return nil
	}
	return s.insertEmbedJob(ctx, tx, s.embedModel, m.TenantID, m.NodeID, m.ID)
}

// insertEmbedJob creates an embed job and its queue record in tx.
func (s *JobStore) insertEmbedJob(ctx context.Context, tx *gorm.DB, model string, tenant, node, material uuid.UUID) error {
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new job id: %w", err)
	}
	params, err := json.Marshal(embedParams{MaterialID: material, Model: model})
	if err != nil {
		return fmt.Errorf("encode job params: %w", err)
	}
	row := &jobRow{ID: id, TenantID: &tenant, NodeID: &node, MaterialID: &material, Type: course.JobEmbed,
		Priority: course.PriorityNormal, Status: course.JobQueued, InputParams: params, MaxAttempts: s.jobs.MaxAttempts()}
	if err := tx.Omit("queued_at", "updated_at").Create(row).Error; err != nil {
		return fmt.Errorf("insert embed job: %w", err)
	}
	_, err = schedule(ctx, tx, s.jobs, row)
	return err
}

// StartEmbed runs the start guard of an embed job.
func (s *JobStore) StartEmbed(ctx context.Context, id uuid.UUID) (course.JobStart, *course.EmbedTask, error) {
	var (
		verdict course.JobStart
		task    *course.EmbedTask
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
		unfinished := r.Status == course.JobQueued || r.Status == course.JobActive
		if r.MaterialID == nil || r.TenantID == nil {
			// ON DELETE SET NULL: the material (or tenant) is gone.
			if unfinished {
				verdict = course.StartGone
				return s.finish(ctx, tx, r, course.JobCancelled, "Material deleted")
			}
			verdict = course.StartStale
			return nil
		}
		if verdict, err = s.startGuard(ctx, tx, r); err != nil || verdict != course.StartRun {
			return err
		}
		task = &course.EmbedTask{Job: *toJob(r, nil), TenantID: *r.TenantID, MaterialID: *r.MaterialID}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return verdict, task, nil
}

// CompleteEmbed completes an active embed job and its queue record.
func (s *JobStore) CompleteEmbed(ctx context.Context, id uuid.UUID, done course.QueueDone) error {
	return inTx(ctx, s.db, func(tx *gorm.DB) error {
		r, err := lockJob(tx, id)
		if err != nil {
			return err
		}
		if r.Status != course.JobActive {
			return nil // cancelled meanwhile (material or node deleted)
		}
		if err := tx.Exec(`UPDATE jobs SET status = 'complete', completed_at = now(), error_message = NULL,
			estimated_at = NULL WHERE id = ? AND status = 'active'`, id).Error; err != nil {
			return fmt.Errorf("complete job: %w", err)
		}
		t, err := txOf(tx)
		if err != nil {
			return err
		}
		return done(ctx, t)
	})
}

// BackfillEmbeds creates embed jobs for ready materials whose chunks lack
// vectors of model, skipping those with an embed job in flight.
func (s *JobStore) BackfillEmbeds(ctx context.Context, model string, limit int) (int, error) {
	var n int
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		var rows []struct {
			ID             uuid.UUID
			TenantID       uuid.UUID
			MaterialnodeID uuid.UUID
		}
		if err := tx.Raw(`SELECT e.id, e.tenant_id, e.materialnode_id FROM material_entries e
			WHERE `+readyEntry+`
			AND EXISTS (SELECT 1 FROM material_chunks c WHERE c.materialentry_id = e.id
				AND (c.embedding IS NULL OR c.embedding_model IS DISTINCT FROM @model))
			AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.materialentry_id = e.id AND j.job_type = 'embed'
				AND j.status IN ('queued', 'active'))
			ORDER BY e.id LIMIT @limit FOR UPDATE OF e SKIP LOCKED`,
			map[string]any{"model": model, "limit": limit}).Scan(&rows).Error; err != nil {
			return fmt.Errorf("find unembedded materials: %w", err)
		}
		for _, r := range rows {
			if err := s.insertEmbedJob(ctx, tx, model, r.TenantID, r.MaterialnodeID, r.ID); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	return n, err
}
