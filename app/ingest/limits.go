package ingest

import "fmt"

// Defaults of Limits (docs/operations/limits.md). They are far above real
// course material (a 500-page book is about 3,000 paragraphs and 2 MB of
// text) and far below what takes a worker with 1.5 GiB down: a hostile
// 8 MiB Markdown file used to expand into 2.4 million chunks.
const (
	DefaultMaxChunks      = 20000
	DefaultMaxTextBytes   = 16 << 20
	DefaultMaxXMLDepth    = 256
	DefaultMaxHTMLElement = 100000
)

// Messages of a document over a limit (permanent: the same input fails the
// same way). They name the limit, not the input.
const (
	msgTooManyChunks = "Document too large: more than %d chunks"
	msgTooMuchText   = "Document too large: more than %d bytes of text"
	msgTooDeep       = "Document too deeply nested: more than %d levels"
	msgTooManyTags   = "Document too large: more than %d HTML elements"
)

// Limits bound what one document may expand into. They are enforced while
// extracting, chunk by chunk and element by element, so a small hostile
// file fails before it costs memory rather than after. The zero value of a
// field means its default.
type Limits struct {
	MaxChunks    int   // extracted chunks per document (INGEST_MAX_CHUNKS)
	MaxTextBytes int64 // extracted text per document (INGEST_MAX_TEXT_BYTES)
	MaxXMLDepth  int   // element nesting in docx/pptx XML (INGEST_MAX_XML_DEPTH)
	MaxHTMLTags  int   // elements of an HTML page before it is parsed (INGEST_MAX_HTML_ELEMENTS)
}

// withDefaults fills zero fields.
func (l Limits) withDefaults() Limits {
	if l.MaxChunks <= 0 {
		l.MaxChunks = DefaultMaxChunks
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = DefaultMaxTextBytes
	}
	if l.MaxXMLDepth <= 0 {
		l.MaxXMLDepth = DefaultMaxXMLDepth
	}
	if l.MaxHTMLTags <= 0 {
		l.MaxHTMLTags = DefaultMaxHTMLElement
	}
	return l
}

// budget meters one document's extraction against its Limits.
type budget struct {
	lim    Limits
	chunks int
	bytes  int64
}

func (l Limits) budget() *budget { return &budget{lim: l.withDefaults()} }

// add charges one extracted piece of text; past a limit it returns the
// permanent error that ends the extraction.
func (b *budget) add(text string) error {
	b.chunks++
	b.bytes += int64(len(text))
	if b.chunks > b.lim.MaxChunks {
		return Permanent(fmt.Sprintf(msgTooManyChunks, b.lim.MaxChunks))
	}
	if b.bytes > b.lim.MaxTextBytes {
		return b.textError()
	}
	return nil
}

// textError is the failure of a document past MaxTextBytes.
func (b *budget) textError() error {
	return Permanent(fmt.Sprintf(msgTooMuchText, b.lim.MaxTextBytes))
}

// depth checks an XML element nesting depth.
func (b *budget) depth(d int) error {
	if d > b.lim.MaxXMLDepth {
		return Permanent(fmt.Sprintf(msgTooDeep, b.lim.MaxXMLDepth))
	}
	return nil
}

// chunks collects extracted chunks under a budget.
type chunks struct {
	b   *budget
	out []Chunk
}

func (c *chunks) add(ch Chunk) error {
	if err := c.b.add(ch.Text); err != nil {
		return err
	}
	c.out = append(c.out, ch)
	return nil
}
