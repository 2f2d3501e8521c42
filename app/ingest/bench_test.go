package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
)

// BenchmarkPDF100Pages extracts a 100-page PDF with poppler (pdfinfo, then
// one pdftotext run split at form feeds) and chunks it.
func BenchmarkPDF100Pages(b *testing.B) {
	testfiles.Tool(b, "pdftotext", "poppler-utils")
	pages := make([]string, 100)
	for i := range pages {
		pages[i] = fmt.Sprintf("Slide %d about gradient descent and learning rates", i+1)
	}
	file := filepath.Join(b.TempDir(), "deck.pdf")
	if err := os.WriteFile(file, testfiles.PDF(pages...), 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		doc, err := PDFTools{}.ExtractPDF(context.Background(), file, "", "deck.pdf")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ChunkDocument(doc, defaultChunkConfig()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunkMarkdown1MB parses and chunks 1 MB of Markdown.
func BenchmarkChunkMarkdown1MB(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 1<<20; i++ {
		fmt.Fprintf(&sb, "## Section %d\n\n%s\n\n", i, strings.Repeat("Words of a lecture paragraph, one after the other. ", 30))
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		doc, err := ExtractText("notes.md", data, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ChunkDocument(doc, defaultChunkConfig()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVideo60s ingests a 60-second clip: ffprobe, ffmpeg audio
// extraction (mono 16 kHz MP3) and transcription against a local fake.
func BenchmarkVideo60s(b *testing.B) {
	clip := testfiles.Clip(b, 60, true)
	tr := testfiles.NewTranscription(b, "sk-test")
	p := &Processor{TmpDir: b.TempDir(), SegmentSeconds: 600,
		Transcriber: &Transcriber{LLM: llmtest.Router(b, tr.URL+"/v1", "sk-test", nil)}}
	for b.Loop() {
		if _, err := p.File(context.Background(), Source{Type: "video", Filename: "clip.mp4", Path: clip}); err != nil {
			b.Fatal(err)
		}
	}
}
