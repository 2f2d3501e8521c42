package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// SearchInput is the query of GET /nodes/{id}/search.
type SearchInput struct {
	NodePath
	Q     string `query:"q" required:"true" minLength:"1" maxLength:"500" doc:"Search text; websearch syntax in text mode (\"a phrase\", -excluded, or)"`
	Limit int    `query:"limit" default:"10" minimum:"1" maximum:"50" doc:"Number of results"`
	Mode  string `query:"mode" enum:"vector,text,hybrid" doc:"Force a ranking; default hybrid when embeddings are on, else text"`
}

// SearchItem is one chunk found.
type SearchItem struct {
	ChunkID    uuid.UUID       `json:"chunk_id"`
	MaterialID uuid.UUID       `json:"material_id"`
	NodeID     uuid.UUID       `json:"materialnode_id"`
	NodeTitle  string          `json:"node_title"`
	Filename   *string         `json:"filename"`
	SourceType SourceType      `json:"source_type"`
	ChunkType  string          `json:"chunk_type"`
	ChunkIndex int             `json:"chunk_index"`
	Text       string          `json:"text"`
	Score      float64         `json:"score" doc:"vector: 1 - cosine distance; text: ts_rank_cd; hybrid: reciprocal rank fusion"`
	Metadata   json.RawMessage `json:"metadata" doc:"slide_number, start_sec, end_sec, level, ..."`
}

// SearchResponse is the ranked chunks and the mode that ran.
type SearchResponse struct {
	Query string       `json:"query"`
	Mode  string       `json:"mode" enum:"vector,text,hybrid" doc:"The ranking that ran: text when embeddings are off or the query could not be embedded"`
	Items []SearchItem `json:"items"`
	Total int          `json:"total" doc:"Number of items returned"`
}

func toSearchResponse(r *course.SearchResult) SearchResponse {
	out := SearchResponse{Query: r.Query, Mode: string(r.Mode), Items: make([]SearchItem, 0, len(r.Hits))}
	for _, h := range r.Hits {
		meta := h.Metadata
		if len(meta) == 0 {
			meta = json.RawMessage(`{}`)
		}
		out.Items = append(out.Items, SearchItem{ChunkID: h.ChunkID, MaterialID: h.MaterialID, NodeID: h.NodeID,
			NodeTitle: h.NodeTitle, Filename: h.Filename, SourceType: SourceType(h.SourceType), ChunkType: h.ChunkType,
			ChunkIndex: h.ChunkIndex, Text: h.Text, Score: h.Score, Metadata: meta})
	}
	out.Total = len(out.Items)
	return out
}

func (s *Server) registerSearch() {
	o := op("search-node", http.MethodGet, "/api/v1/nodes/{id}/search",
		"Search the chunks of the ready materials of a subtree", classRead, http.StatusOK)
	register(s, o, func(ctx context.Context, in *SearchInput) (*struct{ Body SearchResponse }, error) {
		r, err := s.deps.Search.Search(ctx, course.SearchQuery{TenantID: tenantOf(ctx), NodeID: nodeID(in.ID),
			Text: in.Q, Limit: in.Limit, Mode: course.SearchMode(in.Mode)})
		if err != nil {
			return nil, err
		}
		return &struct{ Body SearchResponse }{Body: toSearchResponse(r)}, nil
	})
}
