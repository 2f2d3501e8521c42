package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// StartIngest runs the start guard of an ingest job and loads its
// material. A material deleted meanwhile cancels the job (StartGone).
func (s *JobStore) StartIngest(ctx context.Context, id uuid.UUID) (course.JobStart, *course.IngestTask, error) {
	var (
		verdict course.JobStart
		task    *course.IngestTask
	)
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		r, err := lockJob(tx, id)
		if course.ErrorCode(err) == course.ENOTFOUND {
			verdict = course.StartStale // the job row is gone (its tenant was purged)
			return nil
		}
		if err != nil {
			return err
		}
		m, err := s.ingestMaterial(tx, r)
		if err != nil {
			return err
		}
		if m == nil && (r.Status == course.JobQueued || r.Status == course.JobActive) {
			verdict = course.StartGone
			return s.finish(ctx, tx, r, course.JobCancelled, "Material deleted")
		}
		if verdict, err = s.startGuard(ctx, tx, r); err != nil || verdict != course.StartRun {
			return err
		}
		task = &course.IngestTask{Job: toJob(r, nil), Material: toMaterial(m)}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return verdict, task, nil
}

// ingestMaterial locks the job's material; nil when it is gone.
func (s *JobStore) ingestMaterial(tx *gorm.DB, r *jobRow) (*materialRow, error) {
	if r.MaterialID == nil {
		return nil, nil
	}
	var m materialRow
	err := tx.Clauses(forUpdate()).Where("id = ?", *r.MaterialID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock material: %w", err)
	}
	return &m, nil
}

// CompleteIngest stores a successful ingest in one transaction
// (docs/design/jobs.md, "Completion"): the processed content and hashes, the material's chunks
// (embeddings of unchanged chunks kept), fingerprint invalidation, the
// job complete, and — through done, in the same transaction — the queue
// record. A material deleted meanwhile cancels the job instead.
func (s *JobStore) CompleteIngest(ctx context.Context, id uuid.UUID, res *course.IngestResult, done course.QueueDone) error {
	return inTx(ctx, s.db, func(tx *gorm.DB) error {
		r, err := lockJob(tx, id)
		if err != nil {
			return err
		}
		if r.Status != course.JobActive {
			return nil // cancelled or finished meanwhile: results are dropped
		}
		m, err := s.ingestMaterial(tx, r)
		if err != nil {
			return err
		}
		if m == nil || m.JobID == nil || *m.JobID != id {
			return s.finish(ctx, tx, r, course.JobCancelled, "Material deleted")
		}
		if err := storeProcessed(tx, m, res); err != nil {
			return err
		}
		if err := replaceChunks(tx, m, res.Chunks); err != nil {
			return err
		}
		if err := s.scheduleEmbed(ctx, tx, m); err != nil { // docs/design/search.md
			return err
		}
		if err := invalidateChain(tx, m.TenantID, m.NodeID); err != nil {
			return err
		}
		if err := revalidateBlockedBy(tx, m.ID); err != nil { // mappings waiting for this material
			return err
		}
		if err := tx.Exec(`UPDATE jobs SET status = 'complete', completed_at = now(), error_message = NULL,
			estimated_at = NULL WHERE id = ? AND status = 'active'`, id).Error; err != nil {
			return fmt.Errorf("complete job: %w", err)
		}
		if err := releaseTenant(ctx, tx, s.jobs, r.TenantID); err != nil {
			return err
		}
		// Generate jobs waiting for this ingest start now, not at the reaper's next pass.
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

// storeProcessed writes the processed content with the raw-hash rules of
// docs/design/data-model.md, "Materials": a stored object's first hash becomes its reference; an
// external URL's hash is replaced every time.
func storeProcessed(tx *gorm.DB, m *materialRow, res *course.IngestResult) error {
	raw := "COALESCE(raw_hash, @raw)"
	size := "COALESCE(raw_size_bytes, @size)"
	if res.External {
		raw, size = "@raw", "@size"
	}
	err := tx.Exec(`UPDATE material_entries SET processed_content = @content, processed_hash = @hash,
		processed_at = now(), processed_raw_hash = @raw, raw_hash = `+raw+`, raw_size_bytes = `+size+`,
		job_id = NULL, pending_since = NULL, error_message = NULL WHERE id = @id`,
		map[string]any{"content": res.ProcessedContent, "hash": res.ProcessedHash, "raw": res.RawHash,
			"size": res.RawSize, "id": m.ID}).Error
	if err != nil {
		return fmt.Errorf("store processed content: %w", err)
	}
	return nil
}
