package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// A mapping has no tenant column: its tenant is its node's (mapping →
// node → tenant), so every query below joins material_nodes and filters
// its tenant_id.

// ListMappings lists a node's mappings by (slide_number, created_at).
func (s *MappingStore) ListMappings(ctx context.Context, tenantID, nodeID uuid.UUID) ([]*course.Mapping, error) {
	db := s.db.Gorm.WithContext(ctx)
	if _, err := load(db, tenantID, nodeID); err != nil {
		return nil, err
	}
	var rows []mappingRow
	if err := db.Raw(`SELECT s.* FROM slide_video_mappings s JOIN material_nodes n ON n.id = s.materialnode_id
		WHERE n.tenant_id = ? AND s.materialnode_id = ? ORDER BY s.slide_number, s.created_at, s.id`,
		tenantID, nodeID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list mappings: %w", err)
	}
	out := make([]*course.Mapping, len(rows))
	for i := range rows {
		out[i] = toMapping(&rows[i])
	}
	return out, nil
}

// DeleteMapping removes a mapping of the tenant and invalidates its node's
// fingerprint chain in the same transaction.
func (s *MappingStore) DeleteMapping(ctx context.Context, tenantID, id uuid.UUID) error {
	return inTx(ctx, s.db, func(tx *gorm.DB) error {
		var nodes []uuid.UUID
		if err := tx.Raw(`DELETE FROM slide_video_mappings s USING material_nodes n
			WHERE s.id = ? AND n.id = s.materialnode_id AND n.tenant_id = ? RETURNING s.materialnode_id`,
			id, tenantID).Scan(&nodes).Error; err != nil {
			return fmt.Errorf("delete mapping: %w", err)
		}
		if len(nodes) == 0 {
			return errMappingNotFound()
		}
		return invalidateChain(tx, tenantID, nodes[0])
	})
}

// MappingWarnings returns the pending and failed mappings of the nodes.
func (s *MappingStore) MappingWarnings(ctx context.Context, tenantID uuid.UUID, nodeIDs []uuid.UUID) (map[uuid.UUID][]course.MappingWarning, error) {
	out := map[uuid.UUID][]course.MappingWarning{}
	if len(nodeIDs) == 0 {
		return out, nil
	}
	var rows []mappingRow
	if err := s.db.Gorm.WithContext(ctx).Raw(`SELECT s.* FROM slide_video_mappings s
		JOIN material_nodes n ON n.id = s.materialnode_id
		WHERE n.tenant_id = ? AND s.materialnode_id IN ? AND s.validation_state <> 'validated'
		ORDER BY s.slide_number, s.created_at, s.id`, tenantID, nodeIDs).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list mapping warnings: %w", err)
	}
	for _, r := range rows {
		out[r.NodeID] = append(out[r.NodeID], course.MappingWarning{MappingID: r.ID, NodeID: r.NodeID,
			SlideNumber: r.SlideNumber, State: r.State})
	}
	return out, nil
}

// PresentationChunks returns the chunks of the tenant's presentations with
// the timecodes of their validated mappings (docs/design/mappings.md,
// "Generation"). Generation calls it while assembling its context.
func (s *MappingStore) PresentationChunks(ctx context.Context, tenantID uuid.UUID, materialIDs []uuid.UUID) (map[uuid.UUID][]course.SlideChunk, error) {
	out := map[uuid.UUID][]course.SlideChunk{}
	if len(materialIDs) == 0 {
		return out, nil
	}
	db := s.db.Gorm.WithContext(ctx)
	var chunks []struct {
		MaterialentryID uuid.UUID
		ChunkIndex      int
		ChunkType       string
		Text            string
		TokenCount      int
		Metadata        []byte
		ContentHash     string
	}
	if err := db.Raw(`SELECT c.materialentry_id, c.chunk_index, c.chunk_type, c.text, c.token_count, c.metadata, c.content_hash
		FROM material_chunks c JOIN material_entries m ON m.id = c.materialentry_id
		WHERE c.tenant_id = ? AND c.materialentry_id IN ? AND m.source_type = 'presentation'
		ORDER BY c.materialentry_id, c.chunk_index`, tenantID, materialIDs).Scan(&chunks).Error; err != nil {
		return nil, fmt.Errorf("load presentation chunks: %w", err)
	}
	var rows []mappingRow
	if err := db.Raw(`SELECT s.* FROM slide_video_mappings s JOIN material_nodes n ON n.id = s.materialnode_id
		WHERE n.tenant_id = ? AND s.presentation_materialentry_id IN ? AND s.validation_state = 'validated'
		ORDER BY s.slide_number, s.video_timecode_start_sec, s.id`, tenantID, materialIDs).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load validated mappings: %w", err)
	}
	maps := map[uuid.UUID][]*course.Mapping{}
	for i := range rows {
		maps[rows[i].PresentationID] = append(maps[rows[i].PresentationID], toMapping(&rows[i]))
	}
	byMaterial := map[uuid.UUID][]course.Chunk{}
	for _, c := range chunks {
		byMaterial[c.MaterialentryID] = append(byMaterial[c.MaterialentryID], course.Chunk{Index: c.ChunkIndex,
			Type: c.ChunkType, Text: c.Text, TokenCount: c.TokenCount, Metadata: c.Metadata, ContentHash: c.ContentHash})
	}
	for id, cs := range byMaterial {
		out[id] = course.AttachTimecodes(cs, maps[id])
	}
	return out, nil
}
