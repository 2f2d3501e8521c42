package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// factRow is what the mapping checks read of a material: the columns its
// state derives from, and its page count or duration.
type factRow struct {
	ID           uuid.UUID
	SourceType   string
	Filename     *string
	JobID        *uuid.UUID
	ErrorMessage *string
	RawHash      *string
	ProcessedRaw *string
	Processed    bool
	PageCount    *int
	Duration     *float64
}

// factsQuery reads the facts of materials. The page count comes from the
// processed document's metadata (json, not jsonb: only parsed, not
// stored); the duration is the largest end_sec of the video's chunks.
const factsQuery = `SELECT m.id, m.source_type, m.filename, m.job_id, m.error_message, m.raw_hash,
		m.processed_raw_hash AS processed_raw, m.processed_content IS NOT NULL AS processed,
		CASE WHEN m.source_type = 'presentation' AND m.processed_content IS NOT NULL
			THEN (m.processed_content::json -> 'metadata' ->> 'page_count')::int END AS page_count,
		CASE WHEN m.source_type = 'video'
			THEN (SELECT max((c.metadata ->> 'end_sec')::float8) FROM material_chunks c WHERE c.materialentry_id = m.id)
			END AS duration
	FROM material_entries m `

// toFacts derives each material's state with the one rule
// (course.Material.State).
func toFacts(rows []factRow) map[uuid.UUID]*course.MappingMaterial {
	out := make(map[uuid.UUID]*course.MappingMaterial, len(rows))
	for _, r := range rows {
		m := course.Material{JobID: r.JobID, ErrorMessage: r.ErrorMessage, RawHash: r.RawHash, ProcessedRawHash: r.ProcessedRaw}
		if r.Processed {
			m.ProcessedContent = new(string) // only its presence matters to State
		}
		out[r.ID] = &course.MappingMaterial{ID: r.ID, SourceType: course.SourceType(r.SourceType), Filename: r.Filename,
			State: m.State(), PageCount: r.PageCount, Duration: r.Duration}
	}
	return out
}

// nodeMaterialFacts share-locks the node's materials among ids (in id
// order, so batches never deadlock) and reads their facts.
func nodeMaterialFacts(tx *gorm.DB, tenantID, nodeID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]*course.MappingMaterial, error) {
	if len(ids) == 0 {
		return map[uuid.UUID]*course.MappingMaterial{}, nil
	}
	var locked []uuid.UUID
	if err := tx.Raw(`SELECT id FROM material_entries WHERE tenant_id = ? AND materialnode_id = ? AND id IN ?
		ORDER BY id FOR SHARE`, tenantID, nodeID, ids).Scan(&locked).Error; err != nil {
		return nil, fmt.Errorf("lock mapped materials: %w", err)
	}
	var rows []factRow
	if err := tx.Raw(factsQuery+`WHERE m.tenant_id = ? AND m.materialnode_id = ? AND m.id IN ?`,
		tenantID, nodeID, ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load mapped materials: %w", err)
	}
	return toFacts(rows), nil
}

// revalidateBlockedBy re-runs the readiness and content checks of the
// pending mappings that reference a material whose ingest just ended,
// successfully or finally not (docs/design/mappings.md,
// "Re-validation"). It runs in that transaction, which holds the
// material's lock.
func revalidateBlockedBy(tx *gorm.DB, materialID uuid.UUID) error {
	var rows []mappingRow
	if err := tx.Raw(`SELECT * FROM slide_video_mappings WHERE validation_state = 'pending_validation'
		AND (presentation_materialentry_id = ? OR video_materialentry_id = ?) ORDER BY id FOR UPDATE`,
		materialID, materialID).Scan(&rows).Error; err != nil {
		return fmt.Errorf("lock pending mappings: %w", err)
	}
	_, err := revalidate(tx, rows)
	return err
}

// revalidate checks locked mappings again and stores the outcome; it
// returns the nodes whose mappings changed state.
func revalidate(tx *gorm.DB, rows []mappingRow) ([]uuid.UUID, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, 0, 2*len(rows))
	for _, r := range rows {
		ids = append(ids, r.PresentationID, r.VideoID)
	}
	var facts []factRow
	if err := tx.Raw(factsQuery+`WHERE m.id IN ?`, ids).Scan(&facts).Error; err != nil {
		return nil, fmt.Errorf("load mapped materials: %w", err)
	}
	known := toFacts(facts)
	var changed []uuid.UUID
	for i := range rows {
		m := toMapping(&rows[i])
		pres, video := known[m.PresentationID], known[m.VideoID]
		if pres == nil || video == nil {
			continue // deleted meanwhile: the row goes with it (cascade)
		}
		m.Settle(course.CheckContent(m, pres, video))
		blockers, errs, err := checkColumns(m)
		if err != nil {
			return nil, err
		}
		if err := tx.Exec(`UPDATE slide_video_mappings SET validation_state = CAST(@state AS mapping_validation_state_enum),
			blocking_factors = CAST(@blockers AS jsonb), validation_errors = CAST(@errs AS jsonb),
			validated_at = CASE WHEN @state = 'validated' THEN now() END WHERE id = @id`,
			map[string]any{"state": m.State, "blockers": blockers, "errs": errs, "id": m.ID}).Error; err != nil {
			return nil, fmt.Errorf("store mapping validation: %w", err)
		}
		if m.State != rows[i].State {
			changed = append(changed, m.NodeID)
		}
	}
	return changed, nil
}

// revalidateSettled is reaper rule 5 (docs/design/jobs.md, "Reaper"):
// pending mappings whose materials are no longer in flight and changed
// after the mapping was last checked (a crash lost the in-transaction
// re-validation, or rule 4 just unlocked the material) are checked
// again. A mapping whose state changes invalidates its node's chain.
func (s *JobStore) revalidateSettled(ctx context.Context) (int, error) {
	ids, err := s.pick(ctx, `SELECT s.id FROM slide_video_mappings s
		JOIN material_entries p ON p.id = s.presentation_materialentry_id
		JOIN material_entries v ON v.id = s.video_materialentry_id
		WHERE s.validation_state = 'pending_validation' AND p.job_id IS NULL AND v.job_id IS NULL
		  AND s.updated_at < GREATEST(p.updated_at, v.updated_at)
		ORDER BY s.id`)
	if err != nil {
		return 0, err
	}
	const batch = 100
	n := 0
	for len(ids) > 0 {
		part := ids[:min(batch, len(ids))]
		ids = ids[len(part):]
		err := inTx(ctx, s.db, func(tx *gorm.DB) error {
			var rows []mappingRow
			if err := tx.Raw(`SELECT * FROM slide_video_mappings WHERE id IN ? AND validation_state = 'pending_validation'
				ORDER BY id FOR UPDATE`, part).Scan(&rows).Error; err != nil {
				return fmt.Errorf("lock pending mappings: %w", err)
			}
			changed, err := revalidate(tx, rows)
			if err != nil {
				return err
			}
			n += len(rows)
			return invalidateNodes(tx, changed)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// invalidateNodes invalidates the fingerprint chains of nodes (any
// tenant: the reaper works across tenants).
func invalidateNodes(tx *gorm.DB, nodes []uuid.UUID) error {
	for _, id := range nodes {
		var tenant []uuid.UUID
		if err := tx.Raw(`SELECT tenant_id FROM material_nodes WHERE id = ?`, id).Scan(&tenant).Error; err != nil {
			return fmt.Errorf("load node tenant: %w", err)
		}
		for _, t := range tenant {
			if err := invalidateChain(tx, t, id); err != nil {
				return err
			}
		}
	}
	return nil
}
