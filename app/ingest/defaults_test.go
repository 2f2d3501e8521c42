package ingest

import "github.com/course-supporter/course-supporter/app/config"

// defaultChunkConfig is the chunking of an unconfigured deployment: the
// CHUNK_* defaults live only in app/config.
func defaultChunkConfig() ChunkConfig {
	in := config.DefaultIngest()
	return ChunkConfig{Target: in.ChunkTarget, Max: in.ChunkMax, Overlap: in.ChunkOverlap}
}
