package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/course-supporter/course-supporter/app/course"
)

// UnembeddedChunks reads one batch of chunks lacking vectors of model.
func (s *JobStore) UnembeddedChunks(ctx context.Context, materialID uuid.UUID, model string, after, limit int) ([]course.ChunkText, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id, chunk_index, text, content_hash FROM material_chunks
		WHERE materialentry_id = $1 AND chunk_index > $2 AND (embedding IS NULL OR embedding_model IS DISTINCT FROM $3)
		ORDER BY chunk_index LIMIT $4`, materialID, after, model, limit)
	if err != nil {
		return nil, fmt.Errorf("read unembedded chunks: %w", err)
	}
	defer rows.Close()
	var out []course.ChunkText
	for rows.Next() {
		var c course.ChunkText
		var idx int32
		if err := rows.Scan(&c.ID, &idx, &c.Text, &c.ContentHash); err != nil {
			return nil, fmt.Errorf("scan chunk: %w", err)
		}
		c.Index = int(idx)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read unembedded chunks: %w", err)
	}
	return out, nil
}

// StoreEmbeddings writes vectors whose chunk still has the content hash
// that was embedded: a re-ingest in between replaced the row (or its
// text), and the stale vector matches nothing.
func (s *JobStore) StoreEmbeddings(ctx context.Context, model string, vs []course.ChunkVector) (int, error) {
	if len(vs) == 0 {
		return 0, nil
	}
	ids, hashes, vecs := make([]uuid.UUID, len(vs)), make([]string, len(vs)), make([]string, len(vs))
	for i, v := range vs {
		ids[i], hashes[i], vecs[i] = v.ID, v.ContentHash, VectorLiteral(v.Vector)
	}
	tag, err := s.db.Pool.Exec(ctx, `UPDATE material_chunks c SET embedding = v.vec::vector, embedding_model = $1, embedded_at = now()
		FROM unnest($2::uuid[], $3::text[], $4::text[]) AS v(id, hash, vec)
		WHERE c.id = v.id AND c.content_hash = v.hash`, model, ids, hashes, vecs)
	if err != nil {
		return 0, fmt.Errorf("store embeddings: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// EmbeddingCollector reports cs_chunks_unembedded at scrape time: chunks
// without a vector of model, the backlog embed jobs and embed_backfill
// work down. Counted from the table, so every process reports the same.
func (db *DB) EmbeddingCollector(model string) prometheus.Collector {
	return &embedCollector{db: db, model: model, desc: prometheus.NewDesc("cs_chunks_unembedded",
		"Chunks lacking a vector of the current embedding model.", nil, nil)}
}

type embedCollector struct {
	db    *DB
	model string
	desc  *prometheus.Desc
}

func (c *embedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *embedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n int64
	if err := c.db.Pool.QueryRow(ctx, `SELECT count(*) FROM material_chunks
		WHERE embedding IS NULL OR embedding_model IS DISTINCT FROM $1`, c.model).Scan(&n); err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
