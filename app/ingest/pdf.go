package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
)

// PDFTools extracts PDF text with poppler-utils. poppler's pdfinfo and
// pdftotext were chosen over a pure-Go PDF parser because they are robust
// on real-world (broken, odd-encoding, CID-font) PDFs, fast, maintained in
// Debian (package poppler-utils) and already carried by the container
// image for pdftoppm (vision rendering); a crash or hang stays in a
// child process bounded by the context, not in the worker.
type PDFTools struct {
	PdfInfo   string // path of pdfinfo; "" = "pdfinfo" on PATH
	PdfToText string // path of pdftotext; "" = "pdftotext" on PATH
	// MaxOutput caps pdftotext's output (0: 64 MiB); more is the permanent
	// ErrToolOutputTooLarge, as a retry would print as much again.
	MaxOutput int
	Limits    Limits // of the extracted document
}

func (t PDFTools) info() string { return orDefault(t.PdfInfo, "pdfinfo") }
func (t PDFTools) text() string { return orDefault(t.PdfToText, "pdftotext") }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// PageCount returns the page count from pdfinfo. An encrypted, 0-page or
// unreadable PDF is the permanent MsgBadPDF.
func (t PDFTools) PageCount(ctx context.Context, file string) (int, error) {
	out, err := runTool(ctx, t.info(), file)
	if err != nil {
		var te *ToolError
		if errors.As(err, &te) {
			return 0, &PermanentError{Msg: MsgBadPDF}
		}
		return 0, err
	}
	pages := -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "Encrypted":
			if strings.HasPrefix(v, "yes") {
				return 0, &PermanentError{Msg: MsgBadPDF}
			}
		case "Pages":
			if n, err := strconv.Atoi(v); err == nil {
				pages = n
			}
		}
	}
	if pages <= 0 {
		return 0, &PermanentError{Msg: MsgBadPDF}
	}
	return pages, nil
}

// Pages returns the layout text of every page: one pdftotext run over the
// whole file, split at the form feed pdftotext writes after each page
// (equivalent to -f n -l n per page, without n process starts).
func (t PDFTools) Pages(ctx context.Context, file string) ([]string, error) {
	n, err := t.PageCount(ctx, file)
	if err != nil {
		return nil, err
	}
	out, err := toolRun{name: t.text(), maxOut: t.MaxOutput,
		args: []string{"-layout", "-enc", "UTF-8", "-f", "1", "-l", strconv.Itoa(n), file, "-"}}.run(ctx)
	if err != nil {
		var te *ToolError
		if errors.As(err, &te) {
			return nil, &PermanentError{Msg: MsgBadPDF}
		}
		return nil, err
	}
	parts := strings.Split(string(out), "\f")
	pages := make([]string, n)
	for i := 0; i < n && i < len(parts); i++ {
		pages[i] = parts[i]
	}
	return pages, nil
}

// ExtractPDF builds the presentation SourceDocument of a PDF file: one
// slide_text chunk per non-empty page with slide_number = page number,
// metadata page_count and format "pdf" (vision is the caller's add-on).
func (t PDFTools) ExtractPDF(ctx context.Context, file, sourceURL, title string) (*SourceDocument, error) {
	pages, err := t.Pages(ctx, file)
	if err != nil {
		return nil, err
	}
	return presentationDoc(pages, "pdf", sourceURL, title, t.Limits.budget())
}
