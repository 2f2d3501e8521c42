package ingest

import (
	"encoding/xml"
	"errors"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
)

// PptxSlides returns the text of each slide of a .pptx in presentation
// order (jobs.md §9.3): slides are ordered by the sldIdLst of
// ppt/presentation.xml resolved through its relationships, falling back to
// the numeric order of ppt/slides/slideN.xml when those parts are absent.
// Runs (a:t) are grouped by paragraph (a:p), one paragraph per line. An
// empty slide yields "".
func PptxSlides(data []byte) ([]string, error) {
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
	for _, n := range names {
		b, err := a.read(n)
		if err != nil {
			return nil, err
		}
		t, err := slideText(b)
		if err != nil {
			return nil, err
		}
		texts = append(texts, t)
	}
	return texts, nil
}

// ExtractPptx builds the presentation SourceDocument of a .pptx: one
// slide_text chunk per non-empty slide, page_count = slide count.
func ExtractPptx(data []byte, sourceURL, title string) (*SourceDocument, error) {
	slides, err := PptxSlides(data)
	if err != nil {
		return nil, err
	}
	return presentationDoc(slides, "pptx", sourceURL, title)
}

// presentationDoc turns per-page texts into a presentation document.
func presentationDoc(pages []string, format, sourceURL, title string) (*SourceDocument, error) {
	return finish(presentationDraft(pages, format, sourceURL, title), MsgNoText)
}

// presentationDraft is presentationDoc before the empty check, so slide
// descriptions can still be added to a PDF of images.
func presentationDraft(pages []string, format, sourceURL, title string) *SourceDocument {
	doc := &SourceDocument{
		SourceType: "presentation", SourceURL: sourceURL, Title: title,
		Metadata: DocMetadata{Format: format, PageCount: ptr(len(pages)), VisionPages: ptr(0), VisionFailures: ptr(0)},
	}
	for i, p := range pages {
		if t := cleanText(p); t != "" {
			doc.Chunks = append(doc.Chunks, Chunk{ChunkType: ChunkSlideText, Text: t, Metadata: ChunkMetadata{SlideNumber: i + 1}})
		}
	}
	return doc
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

// slideText collects a:t runs, one line per a:p paragraph.
func slideText(b []byte) (string, error) {
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	var out, para strings.Builder
	inT := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", &PermanentError{Msg: MsgBadArchive}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inT = true
			case "br":
				para.WriteByte(' ')
			}
		case xml.EndElement:
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
				para.Write(t)
			}
		}
	}
	return out.String(), nil
}
