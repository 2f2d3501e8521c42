package ingest

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// skippedHTML are elements whose content is never readable text.
var skippedHTML = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Nav: true, atom.Header: true,
	atom.Footer: true, atom.Aside: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Svg: true, atom.Form: true, atom.Button: true,
}

// blockHTML are elements that become one paragraph chunk each.
var blockHTML = map[atom.Atom]bool{
	atom.P: true, atom.Li: true, atom.Pre: true, atom.Blockquote: true,
	atom.Td: true, atom.Th: true, atom.Dd: true, atom.Dt: true, atom.Figcaption: true,
}

var headingHTML = map[atom.Atom]int{
	atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6,
}

// ExtractHTML extracts readable text (docs/design/jobs.md, "Ingest"): h1..h6 become heading
// chunks, p/li/pre/blockquote/td (and similar) paragraph chunks; script,
// style, nav, header, footer, aside and noscript are dropped. Loose text
// between blocks becomes a paragraph too. It returns the <title>. It
// applies the default limits.
func ExtractHTML(data []byte) (string, []Chunk, error) { return extractHTML(data, Limits{}.budget()) }

func extractHTML(data []byte, b *budget) (string, []Chunk, error) {
	if err := countElements(bytes.NewReader(data), b); err != nil {
		return "", nil, err
	}
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return "", nil, Permanent(MsgNoText)
	}
	w := &htmlWalker{}
	w.walk(doc)
	w.flush()
	// The walk is bounded by the element count; the chunks it made are
	// charged afterwards.
	for _, c := range w.chunks {
		if err := b.add(c.Text); err != nil {
			return "", nil, err
		}
	}
	return w.title, w.chunks, nil
}

// countElements counts the start tags of a page with the streaming
// tokenizer, which keeps one token in memory, and refuses a page with more
// than the budget's MaxHTMLTags before html.Parse builds a tree of it (a
// node is about 100 bytes, and readability keeps more per node).
func countElements(page io.Reader, b *budget) error {
	z := html.NewTokenizer(page)
	n := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return nil // io.EOF: the tokenizer reads from memory
		case html.StartTagToken, html.SelfClosingTagToken:
			if n++; n > b.lim.MaxHTMLTags {
				return Permanent(fmt.Sprintf(msgTooManyTags, b.lim.MaxHTMLTags))
			}
		}
	}
}

type htmlWalker struct {
	title  string
	chunks []Chunk
	loose  strings.Builder
}

func (w *htmlWalker) flush() {
	if t := collapse(w.loose.String()); t != "" {
		w.chunks = append(w.chunks, Chunk{ChunkType: ChunkParagraph, Text: t})
	}
	w.loose.Reset()
}

func (w *htmlWalker) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.loose.WriteString(n.Data)
		w.loose.WriteByte(' ')
		return
	case html.ElementNode:
		if skippedHTML[n.DataAtom] {
			return
		}
		if n.DataAtom == atom.Title {
			if w.title == "" {
				w.title = collapse(textOf(n))
			}
			return
		}
		if lvl, ok := headingHTML[n.DataAtom]; ok {
			w.flush()
			if t := collapse(textOf(n)); t != "" {
				w.chunks = append(w.chunks, Chunk{ChunkType: ChunkHeading, Text: t, Metadata: ChunkMetadata{Level: lvl}})
			}
			return
		}
		if blockHTML[n.DataAtom] && !hasBlockChild(n) {
			w.flush()
			t := textOf(n)
			if n.DataAtom == atom.Pre {
				t = cleanText(t)
			} else {
				t = collapse(t)
			}
			if t != "" {
				w.chunks = append(w.chunks, Chunk{ChunkType: ChunkParagraph, Text: t})
			}
			return
		}
		if n.DataAtom != 0 && n.DataAtom != atom.Span && n.DataAtom != atom.A &&
			n.DataAtom != atom.B && n.DataAtom != atom.I && n.DataAtom != atom.Em && n.DataAtom != atom.Strong {
			w.flush() // any other non-inline element is a block boundary
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
}

// hasBlockChild reports whether n contains a heading or block element, in
// which case n is walked instead of taken whole (e.g. li > p).
func hasBlockChild(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			if _, h := headingHTML[c.DataAtom]; h || blockHTML[c.DataAtom] || hasBlockChild(c) {
				return true
			}
		}
	}
	return false
}

// textOf concatenates the text below n, skipping unreadable elements.
func textOf(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.ElementNode && skippedHTML[n.DataAtom] {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Br {
			b.WriteByte('\n')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}

// collapse joins all whitespace runs into single spaces.
func collapse(s string) string {
	return strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
}
