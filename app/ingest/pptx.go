package ingest

import (
	"encoding/xml"
	"errors"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/course-supporter/course-supporter/app/course"
)

// PptxSlides returns the text of each slide of a .pptx in presentation
// order (docs/design/jobs.md, "Ingest"): slides are ordered by the sldIdLst of
// ppt/presentation.xml resolved through its relationships, falling back to
// the numeric order of ppt/slides/slideN.xml when those parts are absent.
// Runs (a:t) are grouped by paragraph (a:p), one paragraph per line. An
// empty slide yields "". It applies the default limits.
func PptxSlides(data []byte) ([]string, error) { return pptxSlides(data, Limits{}.budget()) }

// pptxSlides streams each slide's XML under the budget's depth limit and
// stops once the slides' text together exceeds MaxTextBytes.
func pptxSlides(data []byte, b *budget) ([]string, error) {
	a, err := openArchive(data, MaxArchiveBytes)
	if err != nil {
		return nil, err
	}
	names, err := slideOrder(a)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, &PermanentError{Msg: MsgBadArchive}
	}
	texts := make([]string, 0, len(names))
	var total int64
	for _, n := range names {
		t, err := readSlide(a, n, b)
		if err != nil {
			return nil, err
		}
		if total += int64(len(t)); total > b.lim.MaxTextBytes {
			return nil, b.textError()
		}
		texts = append(texts, t)
	}
	return texts, nil
}

func readSlide(a *archive, name string, b *budget) (string, error) {
	r, err := a.open(name)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return slideText(r, b)
}

// ExtractPptx is Limits.ExtractPptx with the default limits.
func ExtractPptx(data []byte, sourceURL, title string) (*SourceDocument, error) {
	return Limits{}.ExtractPptx(data, sourceURL, title)
}

// ExtractPptx builds the presentation SourceDocument of a .pptx: one
// slide_text chunk per non-empty slide, page_count = slide count.
func (l Limits) ExtractPptx(data []byte, sourceURL, title string) (*SourceDocument, error) {
	slides, err := pptxSlides(data, l.budget())
	if err != nil {
		return nil, err
	}
	return presentationDoc(slides, "pptx", sourceURL, title, l.budget())
}

// presentationDoc turns per-page texts into a presentation document, one
// chunk per page charged to b.
func presentationDoc(pages []string, format, sourceURL, title string, b *budget) (*SourceDocument, error) {
	doc, err := presentationDraft(pages, format, sourceURL, title, b)
	if err != nil {
		return nil, err
	}
	return finish(doc, MsgNoText)
}

// presentationDraft is presentationDoc before the empty check, so slide
// descriptions can still be added to a PDF of images.
func presentationDraft(pages []string, format, sourceURL, title string, b *budget) (*SourceDocument, error) {
	c := &chunks{b: b}
	for i, p := range pages {
		if t := cleanText(p); t != "" {
			if err := c.add(Chunk{ChunkType: ChunkSlideText, Text: t, Metadata: ChunkMetadata{SlideNumber: i + 1}}); err != nil {
				return nil, err
			}
		}
	}
	return &SourceDocument{
		SourceType: string(course.SourcePresentation), SourceURL: sourceURL, Title: title, Chunks: c.out,
		Metadata: DocMetadata{Format: format, PageCount: ptr(len(pages)), VisionPages: ptr(0), VisionFailures: ptr(0)},
	}, nil
}

type xmlRel struct {
	ID     string `xml:"Id,attr"`
	Target string `xml:"Target,attr"`
}

// slideOrder returns the archive names of the slides in order.
func slideOrder(a *archive) ([]string, error) {
	const pres, rels = "ppt/presentation.xml", "ppt/_rels/presentation.xml.rels"
	if a.has(pres) && a.has(rels) {
		var p struct {
			IDs []struct {
				RID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
			} `xml:"sldIdLst>sldId"`
		}
		var r struct {
			Rels []xmlRel `xml:"Relationship"`
		}
		pb, err := a.read(pres)
		if err != nil {
			return nil, err
		}
		rb, err := a.read(rels)
		if err != nil {
			return nil, err
		}
		if xml.Unmarshal(pb, &p) != nil || xml.Unmarshal(rb, &r) != nil {
			return nil, &PermanentError{Msg: MsgBadArchive}
		}
		targets := map[string]string{}
		for _, rel := range r.Rels {
			t := strings.TrimPrefix(rel.Target, "/")
			if !strings.HasPrefix(rel.Target, "/") {
				t = path.Join("ppt", rel.Target)
			}
			targets[rel.ID] = t
		}
		var names []string
		for _, id := range p.IDs {
			if t, ok := targets[id.RID]; ok && a.has(t) {
				names = append(names, t)
			}
		}
		if len(names) > 0 {
			return names, nil
		}
	}
	type numbered struct {
		n    int
		name string
	}
	var found []numbered
	for name := range a.files {
		rest, ok := strings.CutPrefix(name, "ppt/slides/slide")
		if !ok || !strings.HasSuffix(rest, ".xml") {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSuffix(rest, ".xml")); err == nil {
			found = append(found, numbered{n, name})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].n < found[j].n })
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.name
	}
	return names, nil
}

// slideText collects a:t runs, one line per a:p paragraph, refusing XML
// nested deeper than the budget allows.
func slideText(r io.Reader, b *budget) (string, error) {
	dec := xml.NewDecoder(r)
	var out, para strings.Builder
	inT := false
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", xmlError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > b.lim.MaxXMLDepth {
				return "", b.depth(depth)
			}
			switch t.Name.Local {
			case "t":
				inT = true
			case "br":
				para.WriteByte(' ')
			}
		case xml.EndElement:
			depth--
			switch t.Name.Local {
			case "t":
				inT = false
			case "p":
				if s := strings.TrimSpace(para.String()); s != "" {
					out.WriteString(s)
					out.WriteByte('\n')
				}
				para.Reset()
			}
		case xml.CharData:
			if inT {
				if int64(out.Len()+para.Len()+len(t)) > b.lim.MaxTextBytes {
					return "", b.textError()
				}
				para.Write(t)
			}
		}
	}
	return out.String(), nil
}
