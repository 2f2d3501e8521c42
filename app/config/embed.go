package config

import "time"

// Embeddings holds the settings of embedding and search
// (docs/design/search.md). Whether embeddings are on is decided at start
// from Enabled and the LLM registry: "auto" turns them on when the embed
// action has a usable model, "true" makes a missing one a startup error.
type Embeddings struct {
	Enabled   string // auto, true, false
	BatchSize int    // EMBEDDING_BATCH_SIZE: texts per embeddings request
	// EFSearch is hnsw.ef_search of vector searches (HNSW_EF_SEARCH).
	EFSearch int
	// BackfillInterval is the period of embed_backfill.
	BackfillInterval time.Duration
	// QueryTimeout bounds the embedding of a search query; past it the
	// search answers in text mode.
	QueryTimeout time.Duration
}

// EmbeddingDimensions is the width of material_chunks.embedding.
const EmbeddingDimensions = 1536

func (l *loader) loadEmbeddings() Embeddings {
	e := Embeddings{
		Enabled:          l.oneOf("EMBEDDINGS_ENABLED", "auto", "auto", "true", "false"),
		BatchSize:        int(l.integer("EMBEDDING_BATCH_SIZE", 64, 1, 2048)),
		EFSearch:         int(l.integer("HNSW_EF_SEARCH", 100, 1, 1000)),
		BackfillInterval: l.duration("EMBEDDING_BACKFILL_INTERVAL", 10*time.Minute),
		QueryTimeout:     l.duration("SEARCH_EMBED_TIMEOUT", 10*time.Second),
	}
	if d := l.integer("EMBEDDING_DIMENSIONS", EmbeddingDimensions, 1, 1<<16); d != EmbeddingDimensions {
		l.fail("EMBEDDING_DIMENSIONS", "must be %d (the width of material_chunks.embedding), got %d", EmbeddingDimensions, d)
	}
	if e.BackfillInterval < time.Second {
		l.fail("EMBEDDING_BACKFILL_INTERVAL", "must be at least 1s")
	}
	if e.QueryTimeout < 100*time.Millisecond {
		l.fail("SEARCH_EMBED_TIMEOUT", "must be at least 100ms")
	}
	return e
}
