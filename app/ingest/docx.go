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
// for the caller (ExtractText) to number.
func ExtractDocx(data []byte) ([]Chunk, error) {
	a, err := openArchive(data, MaxArchiveBytes)
	if err != nil {
		return nil, err
	}
	body, err := a.read("word/document.xml")
	if err != nil {
		return nil, err
	}
	return parseDocumentXML(body)
}

// docxRow collects the cells of one table row.
type docxRow struct {
	cells []string
	cell  strings.Builder
}

func parseDocumentXML(body []byte) ([]Chunk, error) {
	dec := xml.NewDecoder(strings.NewReader(string(body)))
	var (
		chunks []Chunk
		para   strings.Builder
		style  string
		inPara bool
		rows   []*docxRow
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &PermanentError{Msg: MsgBadArchive}
		}
		switch t := tok.(type) {
		case xml.StartElement:
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
				para.Write(t)
			}
		case xml.EndElement:
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
					chunks = append(chunks, styledChunk(style, text))
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
				} else {
					chunks = append(chunks, Chunk{ChunkType: ChunkParagraph, Text: text})
				}
			}
		}
	}
	return chunks, nil
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
