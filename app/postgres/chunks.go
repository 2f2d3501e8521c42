package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// replaceChunks swaps the material's chunks for chunks in tx. A new chunk
// whose text is unchanged (same content_hash) inherits the old chunk's
// embedding, so re-ingesting unchanged content costs no embedding calls.
// Embedding itself is a later step: new text is stored with a NULL
// embedding, which the partial index material_chunks_unembedded_idx finds.
func replaceChunks(tx *gorm.DB, m *materialRow, chunks []course.Chunk) error {
	t, err := sqlTx(tx)
	if err != nil {
		return err
	}
	ctx := tx.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	n := len(chunks)
	ids, idx, types, texts, tokens, meta, hashes :=
		make([]string, n), make([]int32, n), make([]string, n), make([]string, n), make([]int32, n), make([]string, n), make([]string, n)
	for i, c := range chunks {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("new chunk id: %w", err)
		}
		ids[i], idx[i], types[i], texts[i], tokens[i], hashes[i] =
			id.String(), int32(c.Index), c.Type, c.Text, int32(c.TokenCount), c.ContentHash //nolint:gosec // G115: chunk counts and sizes are far below 2^31
		meta[i] = string(c.Metadata)
		if len(c.Metadata) == 0 {
			meta[i] = "{}"
		}
	}
	// One statement: the old rows are deleted (their embeddings read on the
	// way) and the new rows inserted. The (material, index) key is checked
	// at commit (DEFERRABLE INITIALLY DEFERRED), since the CTE's DELETE and
	// the INSERT run in no guaranteed order.
	_, err = t.ExecContext(ctx, `WITH old AS (
			DELETE FROM material_chunks WHERE materialentry_id = $1
			RETURNING content_hash, embedding, embedding_model, embedded_at
		), keep AS (
			SELECT DISTINCT ON (content_hash) content_hash, embedding, embedding_model, embedded_at
			FROM old WHERE embedding IS NOT NULL ORDER BY content_hash, embedded_at DESC
		)
		INSERT INTO material_chunks (id, tenant_id, materialnode_id, materialentry_id, chunk_index, chunk_type,
			text, token_count, metadata, content_hash, embedding, embedding_model, embedded_at)
		SELECT n.id, $2, $3, $1, n.idx, n.typ, n.txt, n.tok, n.meta::jsonb, n.hash,
			k.embedding, k.embedding_model, k.embedded_at
		FROM unnest($4::uuid[], $5::int[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[])
			AS n(id, idx, typ, txt, tok, meta, hash)
		LEFT JOIN keep k ON k.content_hash = n.hash`,
		m.ID, m.TenantID, m.NodeID, ids, idx, types, texts, tokens, meta, hashes)
	if err != nil {
		return fmt.Errorf("replace chunks: %w", err)
	}
	return nil
}
