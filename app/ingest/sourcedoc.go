// Package ingest turns raw course materials (text documents, slide decks,
// PDFs, videos) into a SourceDocument (docs/design/jobs.md, "Ingest") and splits that
// document into retrieval chunks (docs/design/jobs.md, "Ingest"). It is pure: no database,
// no object storage, no job queue; callers hand it bytes or file paths and
// persist what it returns.
package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Chunk types of a SourceDocument chunk (docs/design/jobs.md, "Ingest").
const (
	ChunkTranscript       = "transcript"
	ChunkSlideText        = "slide_text"
	ChunkSlideDescription = "slide_description"
	ChunkParagraph        = "paragraph"
	ChunkHeading          = "heading"
	ChunkWebContent       = "web_content"
	ChunkDocMetadata      = "metadata"
)

// SourceDocument is the processed form of one material (docs/design/jobs.md, "Ingest").
type SourceDocument struct {
	SourceType  string      `json:"source_type"`
	SourceURL   string      `json:"source_url"`
	Title       string      `json:"title"`
	Chunks      []Chunk     `json:"chunks"`
	ProcessedAt time.Time   `json:"processed_at"`
	Metadata    DocMetadata `json:"metadata"`
}

// Chunk is one extracted unit of a SourceDocument. Index is 0-based and
// dense within the document.
type Chunk struct {
	ChunkType string        `json:"chunk_type"`
	Text      string        `json:"text"`
	Index     int           `json:"index"`
	Metadata  ChunkMetadata `json:"metadata"`
}

// ChunkMetadata holds the optional per-chunk keys of the SourceDocument. Absent keys are
// omitted from the JSON; pointers distinguish 0 from absent.
type ChunkMetadata struct {
	StartSec    *float64 `json:"start_sec,omitempty"`
	EndSec      *float64 `json:"end_sec,omitempty"`
	SlideNumber int      `json:"slide_number,omitempty"` // 1-based
	Level       int      `json:"level,omitempty"`        // heading 1–6
	Strategy    string   `json:"strategy,omitempty"`
	Model       string   `json:"model,omitempty"`
}

// DocMetadata holds the document metadata of the SourceDocument for every source type;
// only the keys relevant to the source type are set.
type DocMetadata struct {
	// video
	DurationSec *float64 `json:"duration_sec,omitempty"`
	Language    string   `json:"language,omitempty"`
	Strategy    string   `json:"strategy,omitempty"`
	Model       string   `json:"model,omitempty"`
	// presentation
	PageCount      *int `json:"page_count,omitempty"`
	VisionPages    *int `json:"vision_pages,omitempty"`
	VisionFailures *int `json:"vision_failures,omitempty"`
	// video, presentation, text
	Format string `json:"format,omitempty"`
	// web
	FinalURL    string `json:"final_url,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	SiteName    string `json:"site_name,omitempty"`
}

// PermanentError is an ingestion failure that retrying cannot fix (bad
// input). Its message is user-facing, as worded in docs/design/jobs.md.
type PermanentError struct{ Msg string }

func (e *PermanentError) Error() string { return e.Msg }

// Permanent returns a *PermanentError with msg.
func Permanent(msg string) error { return &PermanentError{Msg: msg} }

// IsPermanent reports whether err wraps a *PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Permanent failure messages of processing (docs/design/jobs.md, "Ingest").
const (
	MsgNoText     = "No text content extracted"
	MsgNoSpeech   = "No speech detected"
	MsgNoAudio    = "No audio track"
	MsgBadArchive = "File is not a valid document archive"
	MsgBadPDF     = "PDF is encrypted, empty or unreadable"
)

// canonicalDoc is SourceDocument without processed_at, so that
// re-processing identical input yields the identical hash.
type canonicalDoc struct {
	SourceType string      `json:"source_type"`
	SourceURL  string      `json:"source_url"`
	Title      string      `json:"title"`
	Chunks     []Chunk     `json:"chunks"`
	Metadata   DocMetadata `json:"metadata"`
}

// Canonical returns the canonical JSON of doc: every field except
// processed_at, in declaration order, chunks as [] when empty, HTML
// characters unescaped, no trailing newline.
func Canonical(doc *SourceDocument) ([]byte, error) {
	if doc == nil {
		return nil, errors.New("ingest: nil document")
	}
	c := canonicalDoc{
		SourceType: doc.SourceType, SourceURL: doc.SourceURL, Title: doc.Title,
		Chunks: doc.Chunks, Metadata: doc.Metadata,
	}
	if c.Chunks == nil {
		c.Chunks = []Chunk{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ProcessedHash returns the SHA-256 hex of Canonical(doc), the material's
// processed_hash.
func ProcessedHash(doc *SourceDocument) (string, error) {
	b, err := Canonical(doc)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// finish removes NUL characters (PostgreSQL text cannot store them; a
// UTF-16 .txt is full of them), drops chunks left empty, makes chunk
// indexes dense, and fails with emptyMsg when nothing was extracted.
func finish(doc *SourceDocument, emptyMsg string) (*SourceDocument, error) {
	doc.Title = strings.ReplaceAll(doc.Title, "\x00", "")
	kept := doc.Chunks[:0]
	for _, c := range doc.Chunks {
		c.Text = strings.ReplaceAll(c.Text, "\x00", "")
		if strings.TrimSpace(c.Text) != "" {
			kept = append(kept, c)
		}
	}
	doc.Chunks = kept
	if len(doc.Chunks) == 0 {
		return nil, Permanent(emptyMsg)
	}
	for i := range doc.Chunks {
		doc.Chunks[i].Index = i
	}
	return doc, nil
}

func ptr[T any](v T) *T { return &v }
