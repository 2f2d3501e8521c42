package course

import (
	"context"
	"strings"

	"github.com/google/uuid"
)

// Generation context ranking (docs/design/search.md, "Generation
// context"): when a node's documents exceed the token budget, chunks
// beyond the always-included ones are chosen by cosine similarity to an
// embedding of the node's title, description and child titles.

// ChunkRanker orders every embedded chunk of the ready materials of a
// subtree by exact cosine similarity to vec (most similar first).
type ChunkRanker interface {
	RankChunks(ctx context.Context, tenantID, nodeID uuid.UUID, vec []float32, model string) ([]uuid.UUID, error)
}

// ContextQuery is the text embedded to rank a node's chunks.
func ContextQuery(title, description string, childTitles []string) string {
	parts := []string{strings.TrimSpace(title)}
	if d := strings.TrimSpace(description); d != "" {
		parts = append(parts, d)
	}
	for _, c := range childTitles {
		if c = strings.TrimSpace(c); c != "" {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, "\n")
}

// RankContextChunks embeds the node's ContextQuery (one audited call of
// call's tenant and job) and returns the subtree's chunk ids by
// similarity. ok is false when embeddings are off or the query embedding
// failed: the caller then ranks by full text, else keeps document order.
// Chunks without a vector of the current model are not in the list.
func RankContextChunks(ctx context.Context, llm LLM, policy EmbeddingPolicy, r ChunkRanker, call LLMCall,
	nodeID uuid.UUID, title, description string, childTitles []string) (ids []uuid.UUID, ok bool, err error) {
	if !policy.Enabled() || llm == nil || call.TenantID == nil {
		return nil, false, nil
	}
	call.Action = ActionEmbed
	e, err := llm.Embed(ctx, call, []string{ContextQuery(title, description, childTitles)})
	if err != nil || e.Usage.ProviderModel != policy.Model {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, nil
	}
	ids, err = r.RankChunks(ctx, *call.TenantID, nodeID, e.Vectors[0], policy.Model)
	if err != nil {
		return nil, false, err
	}
	return ids, true, nil
}
