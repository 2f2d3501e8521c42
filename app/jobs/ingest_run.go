package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/ingest"
)

// ingest processes one material into the result CompleteIngest stores.
func (w *IngestWorker) ingest(ctx context.Context, m *course.Material) (*course.IngestResult, error) {
	// External AI calls (transcription, slide vision) are audited under the material's tenant and job.
	src := ingest.Source{Type: m.SourceType, URL: m.SourceURL, Call: course.LLMCall{TenantID: &m.TenantID, JobID: m.JobID}}
	if m.Filename != nil {
		src.Filename = *m.Filename
	}
	var (
		doc *ingest.SourceDocument
		raw ingest.Raw
		err error
	)
	if m.StorageKey != nil {
		doc, raw, err = w.stored(ctx, *m.StorageKey, objectVersion(m), src)
	} else {
		doc, raw, err = w.Process.URL(ctx, src)
	}
	if err != nil {
		return nil, err
	}
	return result(m, doc, raw, w.Chunking)
}

// stored copies the object to a temp file (hashing it on the way) and
// processes the copy; the file is always removed.
func (w *IngestWorker) stored(ctx context.Context, key string, v course.ObjectVersion, src ingest.Source) (*ingest.SourceDocument, ingest.Raw, error) {
	f, err := os.CreateTemp(w.TmpDir, "object-*")
	if err != nil {
		return nil, ingest.Raw{}, fmt.Errorf("create temp file: %w", err)
	}
	defer func() { _ = f.Close(); _ = os.Remove(f.Name()) }()
	h := sha256.New()
	n, err := w.Objects.DownloadVersion(ctx, key, v, io.MultiWriter(f, h))
	if err != nil {
		return nil, ingest.Raw{}, err
	}
	if err := f.Close(); err != nil {
		return nil, ingest.Raw{}, fmt.Errorf("write temp file: %w", err)
	}
	src.Path = f.Name()
	doc, err := w.Process.File(ctx, src)
	return doc, ingest.Raw{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, err
}

// objectVersion is the version of a material's object the worker may
// read: the size recorded at upload or confirmation, and the ETag of a
// presigned upload (docs/design/uploads-and-storage.md, "Presigned upload").
func objectVersion(m *course.Material) course.ObjectVersion {
	var v course.ObjectVersion
	if m.RawSize != nil {
		v.Size = *m.RawSize
	}
	if m.RawETag != nil {
		v.ETag = *m.RawETag
	}
	return v
}

// result chunks the document and assembles what the store writes.
func result(m *course.Material, doc *ingest.SourceDocument, raw ingest.Raw, cfg ingest.ChunkConfig) (*course.IngestResult, error) {
	doc.ProcessedAt = time.Now().UTC()
	hash, err := ingest.ProcessedHash(doc)
	if err != nil {
		return nil, fmt.Errorf("hash document: %w", err)
	}
	content, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	pieces, err := ingest.ChunkDocument(doc, cfg)
	if err != nil {
		return nil, fmt.Errorf("chunk document: %w", err)
	}
	chunks := make([]course.Chunk, len(pieces))
	for i, p := range pieces {
		meta, err := json.Marshal(p.Metadata)
		if err != nil {
			return nil, fmt.Errorf("encode chunk metadata: %w", err)
		}
		chunks[i] = course.Chunk{Index: p.Index, Type: p.ChunkType, Text: p.Text, TokenCount: p.TokenCount,
			Metadata: meta, ContentHash: p.ContentHash}
	}
	return &course.IngestResult{ProcessedContent: string(content), ProcessedHash: hash,
		RawHash: raw.SHA256, RawSize: raw.Size, External: m.StorageKey == nil, Chunks: chunks}, nil
}

// Messages of failures whose details stay in the log.
const (
	msgTemporary  = "Temporary failure while processing the material"
	msgInterrupt  = "Processing was interrupted (worker stopping)"
	msgObjectGone = "Stored file not found"
)

// classify turns an attempt's error into the client-safe message stored
// on the job and material, and whether retrying is pointless. Messages
// never carry internal error text: it can hold hosts, paths or URLs.
func classify(ctx context.Context, err error, limit time.Duration) (string, bool) {
	var (
		perm *ingest.PermanentError
		tool *ingest.ToolError
	)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("Job timed out after %s", limit), false
	case ctx.Err() != nil:
		return msgInterrupt, false
	case errors.As(err, &perm):
		return perm.Msg, true
	case errors.As(err, &tool):
		// A tool exiting with an error on this input will do so again.
		return fmt.Sprintf("File could not be processed (%s failed)", filepath.Base(tool.Tool)), true
	}
	switch course.ErrorCode(err) {
	case course.EINVALID: // a fetch rule (SSRF, size, type, 4xx): client-safe by construction
		return course.ErrorMessage(err), true
	case course.ENOTFOUND:
		return msgObjectGone, true
	}
	if errors.Is(err, course.ErrObjectChanged) {
		return course.ErrorMessage(err), true
	}
	return msgTemporary, false
}
