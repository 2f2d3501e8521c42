package ingest

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/course-supporter/course-supporter/app/course"
)

// ExtractText is Limits.ExtractText with the default limits.
func ExtractText(filename string, data []byte, sourceURL string) (*SourceDocument, error) {
	return Limits{}.ExtractText(filename, data, sourceURL)
}

// ExtractText builds the text SourceDocument of a file by its extension
// (docs/design/jobs.md, "Ingest"): .md/.markdown, .txt, .html/.htm or .docx. Invalid UTF-8
// is replaced; no extracted text is the permanent MsgNoText. The title is
// the first heading, else the file name. Extraction stops at the first
// limit exceeded, with a permanent error.
func (l Limits) ExtractText(filename string, data []byte, sourceURL string) (*SourceDocument, error) {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(filename), "."))
	var (
		chunks []Chunk
		title  string
		err    error
		b      = l.budget()
	)
	switch ext {
	case "md", "markdown":
		chunks, err = extractMarkdown(string(data), b)
	case "txt":
		chunks, err = extractPlain(string(data), b)
	case "html", "htm":
		title, chunks, err = extractHTML(data, b)
	case "docx":
		chunks, err = extractDocx(data, b)
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

// ExtractPlain splits plain text into paragraph chunks at blank lines,
// under the default limits.
func ExtractPlain(s string) ([]Chunk, error) { return extractPlain(s, Limits{}.budget()) }

func extractPlain(s string, b *budget) ([]Chunk, error) {
	c := &chunks{b: b}
	err := eachBlock(cleanText(s), func(block string) error {
		return c.add(Chunk{ChunkType: ChunkParagraph, Text: block})
	})
	return c.out, err
}

// splitBlocks splits at lines that are empty or whitespace only.
func splitBlocks(s string) []string {
	var blocks []string
	_ = eachBlock(s, func(b string) error { blocks = append(blocks, b); return nil })
	return blocks
}

// eachBlock calls fn with each block of s between lines that are empty or
// whitespace only, stopping at fn's first error. Lines are read one at a
// time and a block is built in one buffer: a file of millions of short
// lines costs no more than its own size.
func eachBlock(s string, fn func(string) error) error {
	var cur strings.Builder
	flush := func() error {
		t := strings.TrimSpace(cur.String())
		cur.Reset()
		if t == "" {
			return nil
		}
		return fn(t)
	}
	for line := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(line) == "" {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(strings.TrimRight(line, " \t\r"))
	}
	return flush()
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
// without a full Markdown AST. It applies the default limits.
func ExtractMarkdown(s string) ([]Chunk, error) { return extractMarkdown(s, Limits{}.budget()) }

// extractMarkdown reads s line by line (never splitting it into a slice of
// all its lines, which costs 16 bytes per line of a file that may be
// nothing but line breaks) and stops at the budget's first limit.
func extractMarkdown(s string, b *budget) ([]Chunk, error) {
	c := &chunks{b: b}
	para := &lines{}
	flush := func() error {
		t := strings.TrimSpace(para.take())
		if t == "" {
			return nil
		}
		return c.add(Chunk{ChunkType: ChunkParagraph, Text: t})
	}
	rest := cleanText(s)
	next := func() (string, bool) {
		if rest == "" {
			return "", false
		}
		line, after, _ := strings.Cut(rest, "\n")
		rest = after
		return line, true
	}
	for raw, ok := next(); ok; raw, ok = next() {
		line := strings.TrimRight(raw, " \t")
		var err error
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			if err = flush(); err != nil {
				return nil, err
			}
			for code, ok := next(); ok && !strings.HasPrefix(strings.TrimSpace(code), m[1]); code, ok = next() {
				para.add(code)
			}
			err = flush()
		} else {
			err = markdownLine(line, para, c, flush)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return c.out, nil
}

// markdownLine handles one line outside a code fence.
func markdownLine(line string, para *lines, c *chunks, flush func() error) error {
	if m := atxHeading.FindStringSubmatch(line); m != nil {
		if err := flush(); err != nil {
			return err
		}
		if t := strings.TrimSpace(m[2]); t != "" {
			return c.add(Chunk{ChunkType: ChunkHeading, Text: t, Metadata: ChunkMetadata{Level: len(m[1])}})
		}
		return nil
	}
	if m := setextRule.FindStringSubmatch(line); m != nil && para.n > 0 {
		level := 2
		if m[1][0] == '=' {
			level = 1
		}
		text := strings.TrimSpace(strings.ReplaceAll(para.take(), "\n", " "))
		return c.add(Chunk{ChunkType: ChunkHeading, Text: text, Metadata: ChunkMetadata{Level: level}})
	}
	if strings.TrimSpace(line) == "" {
		return flush()
	}
	para.add(line)
	return nil
}

// lines joins lines with "\n" in one buffer (not a slice of strings: a
// paragraph may be millions of one-character lines).
type lines struct {
	b strings.Builder
	n int
}

func (l *lines) add(line string) {
	if l.n > 0 {
		l.b.WriteByte('\n')
	}
	l.b.WriteString(line)
	l.n++
}

// take returns the joined lines and empties l.
func (l *lines) take() string {
	s := l.b.String()
	l.b, l.n = strings.Builder{}, 0
	return s
}
