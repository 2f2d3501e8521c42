package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

var _ course.ChunkRanker = (*SearchStore)(nil)

// rankSQL orders every embedded chunk of the subtree's ready materials by
// exact cosine distance: generation wants the whole ranking, not a top-k,
// so no index is involved.
const rankSQL = subtreeCTE + `
	SELECT c.id FROM material_chunks c
	WHERE c.tenant_id = $2 AND c.materialentry_id = ANY (ARRAY(` + readyInSubtree + `)) AND c.embedding_model = $4
	ORDER BY c.embedding <=> $3::vector, c.id`

// RankChunks implements course.ChunkRanker.
func (s *SearchStore) RankChunks(ctx context.Context, tenantID, nodeID uuid.UUID, vec []float32, model string) ([]uuid.UUID, error) {
	rows, err := s.db.Pool.Query(ctx, rankSQL, nodeID, tenantID, VectorLiteral(vec), model)
	if err != nil {
		return nil, fmt.Errorf("rank chunks: %w", err)
	}
	defer rows.Close()
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan chunk id: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
