-- +goose Up
-- pgvector holds the embeddings of material chunks (vector(1536)).
CREATE EXTENSION IF NOT EXISTS vector;

-- +goose Down
DROP EXTENSION IF EXISTS vector;
