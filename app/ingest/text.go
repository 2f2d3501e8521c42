package ingest

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/course-supporter/course-supporter/app/course"
)

// ExtractText builds the text SourceDocument of a file by its extension
// (docs/design/jobs.md, "Ingest"): .md/.markdown, .txt, .html/.htm or .docx. Invalid UTF-8
// is replaced; no extracted text is the permanent MsgNoText. The title is
// the first heading, else the file name.
func ExtractText(filename string, data []byte, sourceURL string) (*SourceDocument, error) {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(filename), "."))
	var (
		chunks []Chunk
		title  string
		err    error
	)
	switch ext {
	case "md", "markdown":
		chunks = ExtractMarkdown(string(data))
	case "txt":
		chunks = ExtractPlain(string(data))
	case "html", "htm":
		title, chunks, err = ExtractHTML(data)
	case "docx":
		chunks, err = ExtractDocx(data)
	default:
		return nil, Permanent(fmt.Sprintf("Unsupported text format: .%s", ext))
	}
	if err != nil {
		return nil, err
	}
	if title == "" {
		title = path.Base(filename)
		for _, c := range chunks {
			if c.ChunkType == ChunkHeading {
				title = c.Text
				break
			}
		}
	}
	doc := &SourceDocument{SourceType: string(course.SourceText), SourceURL: sourceURL, Title: title,
		Chunks: chunks, Metadata: DocMetadata{Format: ext}}
	return finish(doc, MsgNoText)
}

// cleanText replaces invalid UTF-8, normalises line ends and trims.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimSpace(s)
}

// ExtractPlain splits plain text into paragraph chunks at blank lines.
func ExtractPlain(s string) []Chunk {
	var out []Chunk
	for _, block := range splitBlocks(cleanText(s)) {
		out = append(out, Chunk{ChunkType: ChunkParagraph, Text: block})
	}
	return out
}

// splitBlocks splits at lines that are empty or whitespace only.
func splitBlocks(s string) []string {
	var blocks []string
	var cur []string
	flush := func() {
		if t := strings.TrimSpace(strings.Join(cur, "\n")); t != "" {
			blocks = append(blocks, t)
		}
		cur = cur[:0]
	}
	for line := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		cur = append(cur, strings.TrimRight(line, " \t\r"))
	}
	flush()
	return blocks
}

var (
	atxHeading = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	fenceOpen  = regexp.MustCompile("^ {0,3}(```+|~~~+)")
	setextRule = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
)

// ExtractMarkdown extracts CommonMark-style structure with a line scanner:
// ATX and setext headings become heading chunks with their level; fenced
// code, lists, quotes and paragraphs become paragraph chunks (markup kept
// as written). It covers the block structure that matters for chunking
// without a full Markdown AST.
func ExtractMarkdown(s string) []Chunk {
	var out []Chunk
	var para []string
	flush := func() {
		if t := strings.TrimSpace(strings.Join(para, "\n")); t != "" {
			out = append(out, Chunk{ChunkType: ChunkParagraph, Text: t})
		}
		para = para[:0]
	}
	lines := strings.Split(cleanText(s), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t")
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			flush()
			var code []string
			for i++; i < len(lines); i++ {
				if strings.HasPrefix(strings.TrimSpace(lines[i]), m[1]) {
					break
				}
				code = append(code, lines[i])
			}
			para = append(para, code...)
			flush()
			continue
		}
		if m := atxHeading.FindStringSubmatch(line); m != nil {
			flush()
			if t := strings.TrimSpace(m[2]); t != "" {
				out = append(out, Chunk{ChunkType: ChunkHeading, Text: t, Metadata: ChunkMetadata{Level: len(m[1])}})
			}
			continue
		}
		if m := setextRule.FindStringSubmatch(line); m != nil && len(para) > 0 {
			level := 2
			if m[1][0] == '=' {
				level = 1
			}
			text := strings.TrimSpace(strings.Join(para, " "))
			para = para[:0]
			out = append(out, Chunk{ChunkType: ChunkHeading, Text: text, Metadata: ChunkMetadata{Level: level}})
			continue
		}
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		para = append(para, line)
	}
	flush()
	return out
}
