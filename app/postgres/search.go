package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/course-supporter/course-supporter/app/course"
)

// SearchStore runs the rankings of search over material_chunks
// (docs/design/search.md). Reads go through pgx directly, like the tree
// reads, since a search is latency-bound.
type SearchStore struct {
	db *DB
	// EFSearch is hnsw.ef_search for vector queries (HNSW_EF_SEARCH).
	efSearch int
	// maxScanTuples bounds an iterative index scan: with a narrow subtree
	// filter the scan keeps going until it has limit rows or has visited
	// this many tuples.
	maxScanTuples int
}

var _ course.ChunkSearcher = (*SearchStore)(nil)

// NewSearchStore returns a SearchStore; efSearch is HNSW_EF_SEARCH.
func NewSearchStore(db *DB, efSearch int) *SearchStore {
	return &SearchStore{db: db, efSearch: efSearch, maxScanTuples: 20000}
}

// subtreeCTE is the ids of the subtree of $1 in tenant $2.
const subtreeCTE = `WITH RECURSIVE sub AS (
		SELECT id FROM material_nodes WHERE id = $1 AND tenant_id = $2
		UNION ALL
		SELECT m.id FROM material_nodes m JOIN sub ON m.parent_materialnode_id = sub.id WHERE m.tenant_id = $2
	)`

// readyEntry is the SQL form of course.Material.State() == ready for the
// material_entries row e.
const readyEntry = `(e.error_message IS NULL OR e.error_message = '') AND e.job_id IS NULL
	AND e.processed_content IS NOT NULL
	AND (e.raw_hash IS NULL OR e.processed_raw_hash = e.raw_hash)`

// readyInSubtree is the ready materials of the subtree. Evaluated once
// (an InitPlan) into an array, it filters the chunks without a join, so
// the HNSW index scan stays the plan's driving node.
const readyInSubtree = `SELECT e.id FROM material_entries e WHERE e.tenant_id = $2
	AND e.materialnode_id = ANY (ARRAY(SELECT id FROM sub)) AND ` + readyEntry

// hitColumns are the columns scanHits reads, from the ranked chunks h.
const hitColumns = `h.id, h.materialentry_id, h.materialnode_id, n.title, e.filename, e.source_type,
	h.chunk_type, h.chunk_index, h.text, h.score, h.metadata`

// Index forms of the HNSW index over material_chunks.embedding
// (docs/design/search.md, "Index form"): the vector search orders by the
// expression the index was built on, or PostgreSQL cannot use it.
const (
	IndexVector  = "vector"  // USING hnsw (embedding vector_cosine_ops)
	IndexHalfvec = "halfvec" // USING hnsw ((embedding::halfvec(1536)) halfvec_cosine_ops)
)

// indexForm is the form the migrations build (00011). bench/search sets it at
// link time (-X) to time the endpoint over the other form in one run; it
// is not configuration, because it must match the schema.
var indexForm = IndexHalfvec

// distance is the ORDER BY expression of an index form.
func distance(form string) string {
	if form == IndexHalfvec {
		return `c.embedding::halfvec(1536) <=> $3::halfvec(1536)`
	}
	return `c.embedding <=> $3::vector`
}

// vectorQuery: the chunks of the subtree ordered by cosine distance over
// the HNSW index of form; the subtree and ready filters are applied as the
// index scan goes, and the iterative scan continues until limit rows pass
// them. The score is the full-precision cosine similarity, and the rows
// are sorted by it again: relaxed_order may return them slightly out of
// order, and a halfvec index orders by 16-bit distances.
func vectorQuery(form string) string {
	return subtreeCTE + `, h AS (
		SELECT c.id, c.materialentry_id, c.materialnode_id, c.chunk_type, c.chunk_index, c.text, c.metadata,
			1 - (c.embedding <=> $3::vector) AS score
		FROM material_chunks c
		WHERE c.tenant_id = $2 AND c.materialentry_id = ANY (ARRAY(` + readyInSubtree + `))
			AND c.embedding_model = $4
		ORDER BY ` + distance(form) + `
		LIMIT $5
	)
	SELECT ` + hitColumns + `
	FROM h JOIN material_entries e ON e.id = h.materialentry_id JOIN material_nodes n ON n.id = h.materialnode_id
	ORDER BY h.score DESC, h.id`
}

// textSQL: websearch syntax ("quoted phrase", -term, or) over the
// generated tsv column (GIN index), ranked by cover density.
const textSQL = subtreeCTE + `, h AS (
		SELECT c.id, c.materialentry_id, c.materialnode_id, c.chunk_type, c.chunk_index, c.text, c.metadata,
			ts_rank_cd(c.tsv, q) AS score
		FROM material_chunks c, websearch_to_tsquery('simple', $3) q
		WHERE c.tenant_id = $2 AND c.materialentry_id = ANY (ARRAY(` + readyInSubtree + `)) AND c.tsv @@ q
		ORDER BY score DESC, c.id
		LIMIT $4
	)
	SELECT ` + hitColumns + `
	FROM h JOIN material_entries e ON e.id = h.materialentry_id JOIN material_nodes n ON n.id = h.materialnode_id
	ORDER BY h.score DESC, h.id`

// VectorSQL returns the vector statement of an index form ("" = the
// shipped one) and its settings, for bench/search to time the SQL alone.
func (s *SearchStore) VectorSQL(form string) (settings, query string) {
	if form == "" {
		form = indexForm
	}
	return s.settings(), vectorQuery(form)
}

// IndexForm is the index form this binary's vector search uses.
func IndexForm() string { return indexForm }

func (s *SearchStore) settings() string {
	// enable_sort off: the planner underestimates the subtree filter and
	// would otherwise sort every chunk of the subtree by exact distance
	// (docs/design/search.md, "Vector query plan"); with sorting priced
	// out, the ordered HNSW scan drives and the iterative scan fills limit.
	// jit off: the priced-out cost would otherwise trigger JIT compilation.
	return fmt.Sprintf(`SELECT set_config('hnsw.ef_search', '%d', true), set_config('hnsw.iterative_scan', 'relaxed_order', true),
		set_config('hnsw.max_scan_tuples', '%d', true), set_config('enable_sort', 'off', true), set_config('jit', 'off', true)`, s.efSearch, s.maxScanTuples)
}

// SearchVector ranks the subtree's chunks embedded by model by cosine
// similarity to vec (score = 1 - distance).
func (s *SearchStore) SearchVector(ctx context.Context, tenantID, nodeID uuid.UUID, vec []float32, model string, limit int) ([]course.SearchHit, error) {
	var hits []course.SearchHit
	// SET LOCAL needs a transaction; set_config(..., true) is the same in
	// one statement.
	err := pgx.BeginTxFunc(ctx, s.db.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.settings()); err != nil {
			return fmt.Errorf("search settings: %w", err)
		}
		rows, err := tx.Query(ctx, vectorQuery(indexForm), nodeID, tenantID, VectorLiteral(vec), model, limit)
		if err != nil {
			return fmt.Errorf("vector search: %w", err)
		}
		hits, err = scanHits(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.found(ctx, tenantID, nodeID, hits)
}

// SearchText ranks the subtree's chunks by full-text match of q.
func (s *SearchStore) SearchText(ctx context.Context, tenantID, nodeID uuid.UUID, q string, limit int) ([]course.SearchHit, error) {
	rows, err := s.db.Pool.Query(ctx, textSQL, nodeID, tenantID, q, limit)
	if err != nil {
		return nil, fmt.Errorf("text search: %w", err)
	}
	hits, err := scanHits(rows)
	if err != nil {
		return nil, err
	}
	return s.found(ctx, tenantID, nodeID, hits)
}

// found tells an empty result from a node that is not the tenant's; the
// check runs only when nothing was found, so a hit costs no extra query.
func (s *SearchStore) found(ctx context.Context, tenantID, nodeID uuid.UUID, hits []course.SearchHit) ([]course.SearchHit, error) {
	if len(hits) > 0 {
		return hits, nil
	}
	var ok bool
	if err := s.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM material_nodes WHERE id = $1 AND tenant_id = $2)`,
		nodeID, tenantID).Scan(&ok); err != nil {
		return nil, fmt.Errorf("find node: %w", err)
	}
	if !ok {
		return nil, course.Errorf(course.ENOTFOUND, "Node not found")
	}
	return []course.SearchHit{}, nil
}

func scanHits(rows pgx.Rows) ([]course.SearchHit, error) {
	defer rows.Close()
	var out []course.SearchHit
	for rows.Next() {
		var (
			h                  course.SearchHit
			id, material, node pgtype.UUID
			source             string
			index              int32
			meta               []byte
		)
		if err := rows.Scan(&id, &material, &node, &h.NodeTitle, &h.Filename, &source, &h.ChunkType, &index,
			&h.Text, &h.Score, &meta); err != nil {
			return nil, fmt.Errorf("scan search hit: %w", err)
		}
		h.ChunkID, h.MaterialID, h.NodeID = id.Bytes, material.Bytes, node.Bytes
		h.SourceType, h.ChunkIndex, h.Metadata = course.SourceType(source), int(index), meta
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read search hits: %w", err)
	}
	return out, nil
}

// VectorLiteral renders v in pgvector's text form, [x,y,...]. Text keeps
// the driver free of a vector codec; float32 round-trips exactly with 'g'.
func VectorLiteral(v []float32) string {
	var b strings.Builder
	b.Grow(len(v) * 10)
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	b.WriteByte(']')
	return b.String()
}
