package ingest

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"

	"github.com/course-supporter/course-supporter/app/course"
)

// maxSlideImage bounds one rendered page read into memory; a larger
// render is a failed page, not a failed document.
const maxSlideImage = 20 << 20

// SlidePrompt is the rendered slide_description prompt of one page.
type SlidePrompt struct {
	System, User string
	Ref          string // prompt version, stored as prompt_ref
}

// Vision describes the rendered pages of a PDF with a vision model
// through the LLM router (action presentation_analysis, docs/design/llm.md).
// A page that fails is skipped and counted; the document never fails
// because of vision.
type Vision struct {
	LLM      course.LLM
	Prompt   func(slide int) (SlidePrompt, error)
	MaxPages int    // PRESENTATION_VISION_MAX_PAGES
	PdfToPpm string // "" = pdftoppm on PATH
	TmpDir   string
}

func (v *Vision) configured() bool {
	return v != nil && v.LLM != nil && v.Prompt != nil && v.MaxPages > 0 && v.LLM.Configured(course.ActionPresentationAnalysis)
}

// pdf extracts a PDF's text and, when a vision model is configured, adds
// a slide_description chunk right after each described page's text.
func (p *Processor) pdf(ctx context.Context, src Source, title string) (*SourceDocument, error) {
	pdf := p.PDF
	pdf.Limits = p.Limits
	if !p.Vision.configured() {
		return pdf.ExtractPDF(ctx, src.Path, src.URL, title)
	}
	pages, err := pdf.Pages(ctx, src.Path)
	if err != nil {
		return nil, err
	}
	doc, err := presentationDraft(pages, "pdf", src.URL, title, pdf.Limits.budget())
	if err != nil {
		return nil, err
	}
	if err := p.Vision.describe(ctx, src.Call, src.Path, len(pages), doc); err != nil {
		return nil, err
	}
	return finish(doc, MsgNoText)
}

// describe renders pages 1..min(n, MaxPages) with pdftoppm -r 150 -png
// and sends each to the vision model, at most 2 in flight. Only a
// cancelled job is an error.
func (v *Vision) describe(ctx context.Context, call course.LLMCall, file string, n int, doc *SourceDocument) error {
	n = min(n, v.MaxPages)
	if n <= 0 {
		return nil
	}
	*doc.Metadata.VisionPages = n
	dir, err := os.MkdirTemp(v.TmpDir, "slides-*")
	if err != nil {
		return fmt.Errorf("create slide dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	images := map[int]string{}
	if _, err := runTool(ctx, orDefault(v.PdfToPpm, "pdftoppm"), "-r", "150", "-png", "-f", "1", "-l", strconv.Itoa(n),
		file, filepath.Join(dir, "page")); err == nil {
		images = renderedPages(dir)
	} else if ctx.Err() != nil {
		return ctx.Err()
	}
	descriptions := make([]*Chunk, n+1)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures int
		sem      = make(chan struct{}, 2)
	)
	for page := 1; page <= n; page++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := v.page(ctx, call, page, images[page])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures++
				return
			}
			descriptions[page] = c
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	*doc.Metadata.VisionFailures = failures
	doc.Chunks = interleave(doc.Chunks, descriptions)
	return nil
}

// page describes one rendered page.
func (v *Vision) page(ctx context.Context, call course.LLMCall, n int, image string) (*Chunk, error) {
	if image == "" {
		return nil, fmt.Errorf("page %d was not rendered", n)
	}
	st, err := os.Stat(image)
	if err != nil || st.Size() > maxSlideImage {
		return nil, fmt.Errorf("page %d image unusable", n)
	}
	data, err := os.ReadFile(image) //nolint:gosec // G304: our own render
	if err != nil {
		return nil, err
	}
	pr, err := v.Prompt(n)
	if err != nil {
		return nil, err
	}
	call.Action, call.PromptRef = course.ActionPresentationAnalysis, pr.Ref
	res, err := v.LLM.Complete(ctx, call, course.CompletionRequest{
		System: pr.System, MaxTokens: 400,
		Messages: []course.LLMMessage{{Role: "user", Parts: []course.LLMPart{
			{Text: pr.User}, {ImageURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(data)},
		}}},
	})
	if err != nil {
		return nil, err
	}
	text := cleanText(res.Text)
	if text == "" {
		return nil, fmt.Errorf("page %d: empty description", n)
	}
	return &Chunk{ChunkType: ChunkSlideDescription, Text: text,
		Metadata: ChunkMetadata{SlideNumber: n, Strategy: "vision", Model: res.Usage.ProviderModel}}, nil
}

var pageFile = regexp.MustCompile(`^page-0*([0-9]+)\.png$`)

// renderedPages maps page numbers to pdftoppm's files (page-1.png or
// page-01.png: the padding depends on the page count).
func renderedPages(dir string) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if m := pageFile.FindStringSubmatch(e.Name()); m != nil {
			n, _ := strconv.Atoi(m[1])
			out[n] = filepath.Join(dir, e.Name())
		}
	}
	return out
}

// interleave places each page's description right after that page's
// slide_text (or where it would be, for a page without text).
func interleave(chunks []Chunk, desc []*Chunk) []Chunk {
	out := make([]Chunk, 0, len(chunks)+len(desc))
	next := 1
	flushUpTo := func(page int) {
		for ; next <= page && next < len(desc); next++ {
			if desc[next] != nil {
				out = append(out, *desc[next])
			}
		}
	}
	for _, c := range chunks {
		flushUpTo(c.Metadata.SlideNumber - 1)
		out = append(out, c)
		flushUpTo(c.Metadata.SlideNumber)
	}
	flushUpTo(len(desc) - 1)
	return out
}
