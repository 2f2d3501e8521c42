package ingest

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
)

// ExtractDocx extracts word/document.xml of a .docx (docs/design/jobs.md, "Ingest"):
// paragraphs styled Title or Heading1..6 become heading chunks, other
// paragraphs become paragraph chunks, and each table row becomes one
// paragraph chunk with its cells joined by " | ". Chunk indexes are left
// for the caller (ExtractText) to number. It applies the default limits.
func ExtractDocx(data []byte) ([]Chunk, error) { return extractDocx(data, Limits{}.budget()) }

func extractDocx(data []byte, b *budget) ([]Chunk, error) {
	a, err := openArchive(data, MaxArchiveBytes)
	if err != nil {
		return nil, err
	}
	body, err := a.open("word/document.xml")
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return parseDocumentXML(body, b)
}

// docxRow collects the cells of one table row.
type docxRow struct {
	cells []string
	cell  strings.Builder
}

// parseDocumentXML streams word/document.xml. The element depth is checked
// before anything is kept for an element: the decoder and the open table
// rows grow with the depth, and a 45 KB archive can hold 12 million nested
// rows.
func parseDocumentXML(body io.Reader, b *budget) ([]Chunk, error) {
	dec := xml.NewDecoder(body)
	var (
		out    = &chunks{b: b}
		para   strings.Builder
		style  string
		inPara bool
		rows   []*docxRow
		depth  int
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, xmlError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if err := b.depth(depth); err != nil {
				return nil, err
			}
			switch t.Name.Local {
			case "p":
				inPara, style = true, ""
				para.Reset()
			case "pStyle":
				style = attr(t, "val")
			case "tab":
				para.WriteByte('\t')
			case "br", "cr":
				para.WriteByte('\n')
			case "tr":
				rows = append(rows, &docxRow{})
			case "tc":
				if len(rows) > 0 {
					rows[len(rows)-1].cell.Reset()
				}
			}
		case xml.CharData:
			if inPara {
				if int64(para.Len()+len(t)) > b.lim.MaxTextBytes {
					return nil, b.textError()
				}
				para.Write(t)
			}
		case xml.EndElement:
			depth--
			switch t.Name.Local {
			case "p":
				inPara = false
				text := cleanText(para.String())
				if len(rows) > 0 {
					r := rows[len(rows)-1]
					if text != "" {
						if r.cell.Len() > 0 {
							r.cell.WriteByte(' ')
						}
						r.cell.WriteString(text)
					}
				} else if text != "" {
					if err := out.add(styledChunk(style, text)); err != nil {
						return nil, err
					}
				}
			case "tc":
				if len(rows) > 0 {
					r := rows[len(rows)-1]
					r.cells = append(r.cells, r.cell.String())
				}
			case "tr":
				if len(rows) == 0 {
					continue
				}
				r := rows[len(rows)-1]
				rows = rows[:len(rows)-1]
				text := strings.Join(r.cells, " | ")
				if strings.Trim(text, " |") == "" {
					continue
				}
				if len(rows) > 0 { // nested table: fold into the outer cell
					rows[len(rows)-1].cell.WriteString(text)
				} else if err := out.add(Chunk{ChunkType: ChunkParagraph, Text: text}); err != nil {
					return nil, err
				}
			}
		}
	}
	return out.out, nil
}

// xmlError keeps a limit error of the archive reader and turns any other
// decoding error into the permanent MsgBadArchive.
func xmlError(err error) error {
	if IsPermanent(err) {
		return err
	}
	return &PermanentError{Msg: MsgBadArchive}
}

// styledChunk maps a paragraph style id to a heading or paragraph chunk.
func styledChunk(style, text string) Chunk {
	s := strings.ToLower(strings.ReplaceAll(style, " ", ""))
	if s == "title" {
		return Chunk{ChunkType: ChunkHeading, Text: text, Metadata: ChunkMetadata{Level: 1}}
	}
	if rest, ok := strings.CutPrefix(s, "heading"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 1 && n <= 6 {
			return Chunk{ChunkType: ChunkHeading, Text: text, Metadata: ChunkMetadata{Level: n}}
		}
	}
	return Chunk{ChunkType: ChunkParagraph, Text: text}
}

// attr returns the value of the attribute with local name local.
func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
