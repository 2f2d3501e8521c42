package course

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Search over the chunks of a subtree (docs/design/search.md): vector
// similarity, full text, or both fused by reciprocal rank fusion.

// SearchMode says how a search ranked its results.
type SearchMode string

// Search modes. Hybrid is the default when embeddings are on; text is the
// only mode when they are off or the query could not be embedded.
const (
	SearchVector SearchMode = "vector"
	SearchText   SearchMode = "text"
	SearchHybrid SearchMode = "hybrid"
)

// Query bounds (the API contract): q is 1..500 characters, limit 1..50.
const (
	SearchMaxQuery     = 500
	SearchMaxLimit     = 50
	SearchDefaultLimit = 10
)

// rrfK is the rank constant of reciprocal rank fusion: a result at rank r
// of one list adds 1/(rrfK+r). 60 is the value of the original paper and
// keeps one list's top result from outweighing agreement of both.
const rrfK = 60

// SearchQuery is one search request of a tenant over the subtree of Node.
type SearchQuery struct {
	TenantID uuid.UUID
	NodeID   uuid.UUID
	Text     string
	Limit    int
	Mode     SearchMode // "" = the default of the configuration
}

// SearchHit is one chunk found, with what a client needs to show it.
type SearchHit struct {
	ChunkID    uuid.UUID
	MaterialID uuid.UUID
	NodeID     uuid.UUID
	NodeTitle  string
	Filename   *string
	SourceType SourceType
	ChunkType  string
	ChunkIndex int
	Text       string
	Score      float64
	Metadata   json.RawMessage
}

// SearchResult is the ranked hits and the mode that actually ran.
type SearchResult struct {
	Query string
	Mode  SearchMode
	Hits  []SearchHit
}

// ChunkSearcher runs the two rankings over the ready materials of a
// subtree of one tenant. ENOTFOUND ("Node not found") for a node that is
// not the tenant's. Vector search sees only chunks embedded by model.
type ChunkSearcher interface {
	SearchVector(ctx context.Context, tenantID, nodeID uuid.UUID, vec []float32, model string, limit int) ([]SearchHit, error)
	SearchText(ctx context.Context, tenantID, nodeID uuid.UUID, q string, limit int) ([]SearchHit, error)
}

// SearchService is what the API calls.
type SearchService interface {
	Search(ctx context.Context, q SearchQuery) (*SearchResult, error)
}

// EmbeddingPolicy is the resolved embedding configuration: Model is the
// provider model whose vectors are current ("" = embeddings off).
type EmbeddingPolicy struct {
	Model     string
	BatchSize int
}

// Enabled reports whether embeddings are on.
func (p EmbeddingPolicy) Enabled() bool { return p.Model != "" }

// Searcher implements SearchService over a ChunkSearcher and the LLM
// router, which embeds the query (audited under the tenant).
type Searcher struct {
	Chunks ChunkSearcher
	LLM    LLM // nil when embeddings are off
	Policy EmbeddingPolicy
	// EmbedTimeout bounds the query's embedding call; when it runs out
	// the search falls back to text rather than keeping the client.
	EmbedTimeout time.Duration
	// OnFallback is told why a query could not be embedded (logging).
	OnFallback func(ctx context.Context, err error)
}

// ValidateSearch checks the query against the API bounds.
func ValidateSearch(q *SearchQuery) error {
	q.Text = strings.TrimSpace(q.Text)
	switch {
	case q.Text == "":
		return FieldError("query.q", "string_too_short", "Query must not be empty", q.Text)
	case utf8.RuneCountInString(q.Text) > SearchMaxQuery:
		return FieldError("query.q", "string_too_long", "Query must be at most 500 characters", nil)
	case q.Limit == 0:
		q.Limit = SearchDefaultLimit
	case q.Limit < 1 || q.Limit > SearchMaxLimit:
		return FieldError("query.limit", "out_of_range", "Limit must be between 1 and 50", q.Limit)
	}
	switch q.Mode {
	case "", SearchVector, SearchText, SearchHybrid:
	default:
		return FieldError("query.mode", "enum", "Mode must be vector, text or hybrid", string(q.Mode))
	}
	return nil
}

// Search runs q: hybrid by default when embeddings are on, text when they
// are off or the query cannot be embedded, whatever mode was asked for.
func (s *Searcher) Search(ctx context.Context, q SearchQuery) (*SearchResult, error) {
	if err := ValidateSearch(&q); err != nil {
		return nil, err
	}
	mode := q.Mode
	if mode == "" {
		mode = SearchHybrid
	}
	var vec []float32
	if mode != SearchText {
		v, err := s.embedQuery(ctx, q)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if s.OnFallback != nil {
				s.OnFallback(ctx, err)
			}
			mode = SearchText
		}
		vec = v
	}
	res := &SearchResult{Query: q.Text, Mode: mode}
	var err error
	switch mode {
	case SearchText:
		res.Hits, err = s.Chunks.SearchText(ctx, q.TenantID, q.NodeID, q.Text, q.Limit)
	case SearchVector:
		res.Hits, err = s.Chunks.SearchVector(ctx, q.TenantID, q.NodeID, vec, s.Policy.Model, q.Limit)
	default:
		res.Hits, err = s.hybrid(ctx, q, vec)
	}
	if err != nil {
		return nil, err
	}
	if res.Hits == nil {
		res.Hits = []SearchHit{}
	}
	return res, nil
}

// errNoEmbeddings is why a query is not embedded when embeddings are off.
var errNoEmbeddings = errors.New("embeddings are off")

// errOtherModel is why a query vector is refused: it came from another
// model than the stored vectors (a fallback in the embed chain), so its
// distances would mean nothing.
var errOtherModel = errors.New("the query was embedded by another model")

func (s *Searcher) embedQuery(ctx context.Context, q SearchQuery) ([]float32, error) {
	if !s.Policy.Enabled() || s.LLM == nil {
		return nil, errNoEmbeddings
	}
	ectx := ctx
	if s.EmbedTimeout > 0 {
		var cancel context.CancelFunc
		ectx, cancel = context.WithTimeout(ctx, s.EmbedTimeout)
		defer cancel()
	}
	tenant := q.TenantID
	e, err := s.LLM.Embed(ectx, LLMCall{Action: ActionEmbed, TenantID: &tenant}, []string{q.Text})
	if err != nil {
		return nil, err
	}
	if e.Usage.ProviderModel != s.Policy.Model {
		return nil, errOtherModel
	}
	return e.Vectors[0], nil
}

// hybrid fuses the vector and text rankings. Each list contributes
// candidates beyond limit so that a chunk ranked well by one list and
// just past limit by the other still gets the credit of both.
func (s *Searcher) hybrid(ctx context.Context, q SearchQuery, vec []float32) ([]SearchHit, error) {
	n := min(max(2*q.Limit, 20), 2*SearchMaxLimit)
	byVec, err := s.Chunks.SearchVector(ctx, q.TenantID, q.NodeID, vec, s.Policy.Model, n)
	if err != nil {
		return nil, err
	}
	byText, err := s.Chunks.SearchText(ctx, q.TenantID, q.NodeID, q.Text, n)
	if err != nil {
		return nil, err
	}
	return FuseRRF(q.Limit, byVec, byText), nil
}

// FuseRRF merges rankings by reciprocal rank fusion: each hit scores the
// sum of 1/(60+rank) over the lists it is in (rank from 1); ties are
// broken by chunk id so the order is stable. The fused score replaces the
// lists' own, which are not comparable with each other.
func FuseRRF(limit int, lists ...[]SearchHit) []SearchHit {
	score := map[uuid.UUID]float64{}
	hit := map[uuid.UUID]SearchHit{}
	for _, l := range lists {
		for i, h := range l {
			score[h.ChunkID] += 1 / float64(rrfK+i+1)
			if _, ok := hit[h.ChunkID]; !ok {
				hit[h.ChunkID] = h
			}
		}
	}
	out := make([]SearchHit, 0, len(hit))
	for id, h := range hit {
		h.Score = score[id]
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ChunkID.String() < out[j].ChunkID.String()
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
