package course

// JobStart is the verdict of the start guard a worker runs before any work
// (docs/design/jobs.md, "Start guard").
type JobStart int

// Start guard verdicts.
const (
	// StartRun: the job is now active; do the work.
	StartRun JobStart = iota
	// StartStale: the job is final already (a stale queue record); no work.
	StartStale
	// StartWait: a dependency is unfinished; try again later.
	StartWait
	// StartFailed: a dependency failed, so the job was failed now.
	StartFailed
	// StartGone: the job's target was deleted, so it was cancelled now.
	StartGone
)

// IngestTask is an ingest job the start guard admitted, with its material.
type IngestTask struct {
	Job      *Job
	Material *Material
}

// Chunk is one retrieval chunk of a processed material.
type Chunk struct {
	Index       int
	Type        string
	Text        string
	TokenCount  int
	Metadata    []byte // JSON object
	ContentHash string // SHA-256 hex of Text
}

// IngestResult is what a successful ingest stores on its material.
type IngestResult struct {
	ProcessedContent string // canonical SourceDocument JSON
	ProcessedHash    string
	// RawHash is the SHA-256 of the bytes processed; RawSize their count.
	RawHash string
	RawSize int64
	// External is true for URL materials, whose raw hash is replaced on
	// every ingest; a stored object's first hash is kept as the reference.
	External bool
	Chunks   []Chunk
}

// ReapStats counts what one pass of the job reaper repaired.
type ReapStats struct {
	Requeued, Lost, Expired, DependencyFailed, Released, MaterialsFixed int
	// MappingsRevalidated counts pending mappings checked again (rule 5).
	MappingsRevalidated int
	// Rescued counts queue records taken back from dead workers.
	Rescued int
}

// Any reports whether the pass changed anything.
func (s ReapStats) Any() bool { return s != ReapStats{} }
