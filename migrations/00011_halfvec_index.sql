-- +goose NO TRANSACTION
-- +goose Up
-- The HNSW index of vector search moves to 16-bit floats
-- (docs/design/search.md, "Index form"): an expression index over the
-- same vector(1536) column cast to halfvec is half the size, builds
-- faster, and kept recall@10 and latency in bench/search
-- (docs/performance.md). The column stays full precision: scores, exact
-- ranking (generation context) and a later change of mind read it.
-- Expand only: the release before this one orders by the plain vector
-- expression, which this index cannot serve, so material_chunks_embedding_idx
-- stays until the next release drops it (docs/operations/deploy.md,
-- migrations work with the release before them).
-- Built CONCURRENTLY so ingestion keeps writing chunks meanwhile; the
-- DROP removes an invalid index a failed earlier attempt left.
DROP INDEX CONCURRENTLY IF EXISTS material_chunks_embedding_half_idx;
CREATE INDEX CONCURRENTLY material_chunks_embedding_half_idx ON material_chunks
    USING hnsw ((embedding::halfvec(1536)) halfvec_cosine_ops) WITH (m = 16, ef_construction = 64);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS material_chunks_embedding_half_idx;
