package course

import "github.com/google/uuid"

// NeedsRanking reports whether docs exceed the token budget, the only
// case in which ranks choose chunks (AssembleContext): a step whose
// documents fit spends no embedding call on ranking them.
func NeedsRanking(docs []RankedDocument, budget int) bool {
	total := 0
	for _, d := range docs {
		for _, c := range d.Chunks {
			total += c.Tokens
		}
	}
	return total > budget
}

// ContextChildTitles are the titles of the node's children, read from
// the outline the step already loaded (its first node is the node).
func ContextChildTitles(tree []OutlineNode) []string {
	if len(tree) == 0 {
		return nil
	}
	out := make([]string, len(tree[0].Children))
	for i, c := range tree[0].Children {
		out[i] = c.Title
	}
	return out
}

// ApplyEmbeddingRank re-ranks docs by ids, the chunks ordered by cosine
// similarity (most similar first; RankContextChunks). Similarity and
// full-text rank are not on one scale, so they are tiered rather than
// fused (docs/design/search.md, "Generation context"): every embedded
// chunk outranks every chunk without a vector of the current model, the
// embedded ones in similarity order, the others keep their text order.
// The order, and so the selected context, is a function of the ranking
// alone: deterministic for equal inputs.
func ApplyEmbeddingRank(docs []RankedDocument, ids []uuid.UUID) {
	pos := make(map[uuid.UUID]int, len(ids))
	for i, id := range ids {
		pos[id] = i
	}
	n := float64(len(ids))
	for d := range docs {
		for c := range docs[d].Chunks {
			ch := &docs[d].Chunks[c]
			if i, ok := pos[ch.ID]; ok {
				ch.Rank = 1 + (n-float64(i))/n // (1, 2], most similar highest
			} else if ch.Rank > 0 {
				ch.Rank /= 1 + ch.Rank // [0, 1), text order kept
			} else {
				ch.Rank = 0
			}
		}
	}
}
