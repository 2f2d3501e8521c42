package course

import (
	"encoding/json"
	"sort"
	"unicode/utf8"
)

// ContextStats says what the token budget kept of a step's documents.
type ContextStats struct {
	SelectedChunks, TotalChunks int
	SelectedTokens, TotalTokens int
	Truncated                   bool
}

// EstimateTokens is the product's token estimate: one token per four
// characters, rounded up.
func EstimateTokens(s string) int { return (utf8.RuneCountInString(s) + 3) / 4 }

// AssembleContext builds a step's CourseContext within budget tokens
// (docs/design/generation.md, "Context and token budget"). Documents that
// fit are sent whole. Otherwise every heading chunk and the first chunk
// of each document are kept, then the highest-ranked other chunks while
// they fit, in document order. The outline and the summaries are not
// counted against the budget but are capped at a quarter of it.
func AssembleContext(in *StepInput, mode string, budget int) (StructureContext, ContextStats) {
	cc := StructureContext{Target: in.Target, Mode: mode, Documents: []ContextDocument{},
		MaterialTree: in.MaterialTree, ChildrenSummaries: in.ChildrenSummaries,
		ParentSummary: in.ParentSummary, SiblingSummaries: in.SiblingSummaries,
		CurrentStructure: in.CurrentStructure}
	keep, st := selectChunks(in.Documents, budget)
	for d, doc := range in.Documents {
		out := ContextDocument{MaterialID: doc.MaterialID, SourceType: doc.SourceType, Filename: doc.Filename,
			Title: doc.Title, Chunks: []ContextChunk{}}
		for c, ch := range doc.Chunks {
			if keep[d][c] {
				out.Chunks = append(out.Chunks, ch.ContextChunk)
			}
		}
		cc.Documents = append(cc.Documents, out)
	}
	capExtras(&cc, budget/4)
	return cc, st
}

type chunkPos struct{ doc, chunk int }

// selectChunks marks the chunks the budget keeps.
func selectChunks(docs []RankedDocument, budget int) ([][]bool, ContextStats) {
	var st ContextStats
	keep := make([][]bool, len(docs))
	var rest []chunkPos
	for d, doc := range docs {
		keep[d] = make([]bool, len(doc.Chunks))
		for c, ch := range doc.Chunks {
			st.TotalChunks++
			st.TotalTokens += ch.Tokens
			rest = append(rest, chunkPos{d, c})
		}
	}
	if st.TotalTokens <= budget {
		for d := range keep {
			for c := range keep[d] {
				keep[d][c] = true
			}
		}
		st.SelectedChunks, st.SelectedTokens = st.TotalChunks, st.TotalTokens
		return keep, st
	}
	st.Truncated = true
	take := func(p chunkPos) {
		keep[p.doc][p.chunk] = true
		st.SelectedChunks++
		st.SelectedTokens += docs[p.doc].Chunks[p.chunk].Tokens
	}
	for _, p := range rest {
		if p.chunk == 0 || docs[p.doc].Chunks[p.chunk].ChunkType == "heading" {
			take(p)
		}
	}
	// Highest rank first; equal ranks keep document order (stable).
	sort.SliceStable(rest, func(i, j int) bool {
		return docs[rest[i].doc].Chunks[rest[i].chunk].Rank > docs[rest[j].doc].Chunks[rest[j].chunk].Rank
	})
	for _, p := range rest {
		if keep[p.doc][p.chunk] {
			continue
		}
		if st.SelectedTokens+docs[p.doc].Chunks[p.chunk].Tokens <= budget {
			take(p)
		}
	}
	return keep, st
}

// capExtras trims the summaries and the outline, sibling summaries first,
// until they fit max tokens together.
func capExtras(cc *StructureContext, limit int) {
	size := func() int {
		b, _ := json.Marshal([]any{cc.MaterialTree, cc.ChildrenSummaries, cc.ParentSummary, cc.SiblingSummaries})
		return EstimateTokens(string(b))
	}
	for size() > limit {
		switch {
		case len(cc.SiblingSummaries) > 0:
			cc.SiblingSummaries = cc.SiblingSummaries[:len(cc.SiblingSummaries)-1]
		case len(cc.ChildrenSummaries) > 0:
			cc.ChildrenSummaries = cc.ChildrenSummaries[:len(cc.ChildrenSummaries)-1]
		case cc.MaterialTree != nil:
			cc.MaterialTree = nil
		case cc.ParentSummary != nil:
			cc.ParentSummary = nil
		default:
			return
		}
	}
}
