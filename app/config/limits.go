package config

// Limits are the per-document and per-download bounds of ingestion
// (docs/operations/limits.md): going over one is a permanent failure of
// the material after one attempt, never an out-of-memory worker or a
// queue slot held for hours.
type Limits struct {
	MaxChunks    int   // INGEST_MAX_CHUNKS: chunks per document
	MaxTextBytes int64 // INGEST_MAX_TEXT_BYTES: extracted text per document
	MaxXMLDepth  int   // INGEST_MAX_XML_DEPTH: element nesting in docx/pptx
	MaxHTMLTags  int   // INGEST_MAX_HTML_ELEMENTS: elements of one HTML page or file
	// FetchMinBytesPerSec is the slowest average download accepted after
	// FETCH_TIMEOUT (FETCH_MIN_BYTES_PER_SEC); it also bounds a download to
	// FETCH_TIMEOUT + its size limit at that rate.
	FetchMinBytesPerSec int64
}

func (l *loader) loadLimits() Limits {
	return Limits{
		MaxChunks:           int(l.integer("INGEST_MAX_CHUNKS", 20000, 100, 10_000_000)),
		MaxTextBytes:        l.integer("INGEST_MAX_TEXT_BYTES", 16<<20, 64<<10, 1<<30),
		MaxXMLDepth:         int(l.integer("INGEST_MAX_XML_DEPTH", 256, 32, 100_000)),
		MaxHTMLTags:         int(l.integer("INGEST_MAX_HTML_ELEMENTS", 100000, 1000, 10_000_000)),
		FetchMinBytesPerSec: l.integer("FETCH_MIN_BYTES_PER_SEC", 128<<10, 1, 1<<30),
	}
}
