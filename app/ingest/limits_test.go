package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/internal/testfiles"
)

// wantLimit fails unless err is the permanent limit failure msg.
func wantLimit(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if !IsPermanent(err) || err.Error() != msg {
		t.Fatalf("%s: err = %v, want the permanent %q", what, err, msg)
	}
}

// Ensure the black-box attack file, 8 MiB of "# a\nb\n\n" (2.4 million
// chunks before the limit), stops at the chunk limit while extracting.
func TestMarkdownStopsAtChunkLimit(t *testing.T) {
	md := strings.Repeat("# a\nb\n\n", (8<<20)/7)
	_, err := ExtractText("notes.md", []byte(md), "")
	wantLimit(t, "markdown", err, fmt.Sprintf(msgTooManyChunks, DefaultMaxChunks))
	_, err = Limits{MaxChunks: 10}.ExtractText("notes.txt", []byte(strings.Repeat("p\n\n", 11)), "")
	wantLimit(t, "plain text", err, fmt.Sprintf(msgTooManyChunks, 10))
	if _, err := (Limits{MaxChunks: 10}).ExtractText("notes.txt", []byte(strings.Repeat("p\n\n", 10)), ""); err != nil {
		t.Fatalf("10 chunks under a limit of 10: %v", err)
	}
}

// Ensure extracted text is capped per document, for a paragraph too long
// on its own and for many paragraphs together, in every text format.
func TestTextStopsAtByteLimit(t *testing.T) {
	lim := Limits{MaxTextBytes: 1000}
	msg := fmt.Sprintf(msgTooMuchText, 1000)
	long := strings.Repeat("word ", 300)
	for name, data := range map[string][]byte{
		"a.md":   []byte(strings.Repeat("para\n\n", 300)),
		"a.txt":  []byte(long),
		"a.html": []byte("<p>" + long + "</p>"),
		"a.docx": buildDocx(t, wp("", long)),
	} {
		_, err := lim.ExtractText(name, data, "")
		wantLimit(t, name, err, msg)
	}
	_, err := lim.ExtractPptx(testfiles.Pptx(t, long), "", "deck")
	wantLimit(t, "pptx", err, msg)
	_, err = lim.ExtractWeb([]byte(long), "https://e.x/", "https://e.x/", "text/plain")
	wantLimit(t, "web", err, msg)
}

// Ensure XML nested deeper than the limit fails before it is kept: the
// 45 KB .docx of 12 million nested table rows took 2.28 GB; here a smaller
// one of the same shape, which without the limit ended in "No text
// content extracted" after building every row.
func TestOOXMLStopsAtDepthLimit(t *testing.T) {
	msg := fmt.Sprintf(msgTooDeep, DefaultMaxXMLDepth)
	rows := strings.Repeat("<w:tr>", 200000)
	_, err := ExtractText("rows.docx", buildDocx(t, "<w:tbl>"+rows), "")
	wantLimit(t, "docx", err, msg)
	deep := strings.Repeat("<a:p>", 1000)
	_, err = ExtractPptx(buildZip(t, zipFile{"ppt/slides/slide1.xml", slideXML("x") + deep}), "", "deck")
	wantLimit(t, "pptx", err, msg)

	// Three nested tables are ordinary and stay well inside the limit.
	cell := wp("", "inner")
	for range 3 {
		cell = "<w:tbl><w:tr><w:tc>" + cell + "</w:tc></w:tr></w:tbl>"
	}
	doc, err := ExtractText("nested.docx", buildDocx(t, cell), "")
	if err != nil || len(doc.Chunks) != 1 || doc.Chunks[0].Text != "inner" {
		t.Fatalf("nested tables: %v %+v", err, doc)
	}
}

// Ensure a page with more elements than the limit is refused before it is
// parsed into a tree, uploaded as .html and fetched as a web page.
func TestHTMLStopsAtElementLimit(t *testing.T) {
	lim := Limits{MaxHTMLTags: 50}
	msg := fmt.Sprintf(msgTooManyTags, 50)
	page := []byte("<html><body>" + strings.Repeat("<p>x</p>", 49) + "</body></html>")
	_, err := lim.ExtractText("page.html", page, "")
	wantLimit(t, "html file", err, msg)
	_, err = lim.ExtractWeb(page, "https://e.x/", "https://e.x/", "text/html")
	wantLimit(t, "web page", err, msg)
	small := []byte("<html><body>" + strings.Repeat("<p>some words here</p>", 10) + "</body></html>")
	if _, err := lim.ExtractText("page.html", small, ""); err != nil {
		t.Fatalf("small page: %v", err)
	}
}

// Ensure splitting cannot take a document past the chunk limit after
// extraction.
func TestChunkDocumentStopsAtLimit(t *testing.T) {
	doc := &SourceDocument{}
	for i := range 6 {
		doc.Chunks = append(doc.Chunks, Chunk{ChunkType: ChunkHeading, Text: "h", Metadata: ChunkMetadata{Level: 1 + i%2}})
	}
	cfg := defaultChunkConfig()
	cfg.MaxChunks = 5
	_, err := ChunkDocument(doc, cfg)
	wantLimit(t, "chunking", err, fmt.Sprintf(msgTooManyChunks, 5))
	cfg.MaxChunks = 6
	if out, err := ChunkDocument(doc, cfg); err != nil || len(out) != 6 {
		t.Fatalf("6 chunks under 6: %v %d", err, len(out))
	}
}

// Ensure pdftotext printing more than its output limit is a permanent
// failure (it was retried three times), not a retryable one.
func TestPDFTextOverLimitIsPermanent(t *testing.T) {
	testfiles.Tool(t, "pdfinfo", "poppler-utils")
	testfiles.Tool(t, "pdftotext", "poppler-utils")
	file := writeTemp(t, "long.pdf", testfiles.PDF("Line one of a page", "Line two of a page"))
	_, err := PDFTools{MaxOutput: 10}.ExtractPDF(context.Background(), file, "", "deck")
	if !IsPermanent(err) || !errors.Is(err, ErrToolOutputTooLarge) {
		t.Fatalf("err = %v, want the permanent ErrToolOutputTooLarge", err)
	}
}
