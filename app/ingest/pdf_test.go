package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/testfiles"
)

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPDFPages(t *testing.T) {
	testfiles.Tool(t, "pdfinfo", "poppler-utils")
	testfiles.Tool(t, "pdftotext", "poppler-utils")
	file := writeTemp(t, "deck.pdf", testfiles.PDF("Introduction to Go", "", "Goroutines and channels"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	doc, err := PDFTools{}.ExtractPDF(ctx, file, "s3://b/deck.pdf", "deck.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if *doc.Metadata.PageCount != 3 || doc.Metadata.Format != "pdf" || *doc.Metadata.VisionPages != 0 {
		t.Errorf("metadata = %+v", doc.Metadata)
	}
	if len(doc.Chunks) != 2 {
		t.Fatalf("chunks = %+v, want pages 1 and 3 (2 is empty)", doc.Chunks)
	}
	for i, e := range []struct {
		n    int
		text string
	}{{1, "Introduction to Go"}, {3, "Goroutines and channels"}} {
		c := doc.Chunks[i]
		if c.ChunkType != ChunkSlideText || c.Metadata.SlideNumber != e.n || c.Index != i || !strings.Contains(c.Text, e.text) {
			t.Errorf("chunk %d = %+v, want slide %d containing %q", i, c, e.n, e.text)
		}
	}
}

func TestPDFCorruptAndEmpty(t *testing.T) {
	testfiles.Tool(t, "pdfinfo", "poppler-utils")
	testfiles.Tool(t, "pdftotext", "poppler-utils")
	ctx := context.Background()
	for name, data := range map[string][]byte{
		"garbage":   []byte("%PDF-1.4\nthis is not really a pdf\n%%EOF"),
		"truncated": testfiles.PDF("hello")[:120],
		"empty":     nil,
	} {
		_, err := PDFTools{}.ExtractPDF(ctx, writeTemp(t, name+".pdf", data), "", "")
		if !IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", name, err)
		}
	}
	_, err := PDFTools{}.ExtractPDF(ctx, writeTemp(t, "blank.pdf", testfiles.PDF("", "")), "", "")
	if !IsPermanent(err) || err.Error() != MsgNoText {
		t.Errorf("text-less PDF: err = %v, want %q", err, MsgNoText)
	}
}

func TestToolTimeoutAndMissing(t *testing.T) {
	sleep := testfiles.Tool(t, "sleep", "coreutils")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := runTool(ctx, sleep, "10")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v, want a deadline error quickly", err, time.Since(start))
	}
	_, err = PDFTools{PdfInfo: "/nonexistent/pdfinfo"}.PageCount(context.Background(), "x.pdf")
	if err == nil || IsPermanent(err) {
		t.Errorf("missing tool: err = %v, want a non-permanent error", err)
	}
}
