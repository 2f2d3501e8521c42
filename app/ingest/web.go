package ingest

import (
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"

	"github.com/course-supporter/course-supporter/app/course"
)

// MsgNoReadable is the permanent failure of a web page without readable
// content (docs/design/jobs.md, "Ingest").
const MsgNoReadable = "No readable content extracted"

// maxWebTitleRunes caps a title derived from page text (text/plain pages).
const maxWebTitleRunes = 200

// ExtractWeb is Limits.ExtractWeb with the default limits.
func ExtractWeb(body []byte, sourceURL, finalURL, contentType string) (*SourceDocument, error) {
	return Limits{}.ExtractWeb(body, sourceURL, finalURL, contentType)
}

// ExtractWeb builds the web SourceDocument of a fetched page.
//
// body is the (already decompressed) response body, sourceURL the
// material's URL, finalURL the URL after redirects and contentType the
// response Content-Type header. The body is decoded to UTF-8 using the
// charset parameter of contentType when it names a known encoding;
// otherwise invalid UTF-8 is replaced. A text/plain page is split into
// blank-line separated blocks; any other type is parsed as HTML and
// reduced to its main content by the readability algorithm, each block
// (paragraph, list item, heading, pre, blockquote, table row with cells
// joined by " | ") becoming one web_content chunk in document order.
// Nothing is fetched over the network. No readable text, or HTML nested
// deeper than the parser accepts (512 open elements), is the permanent
// MsgNoReadable; a page with more elements than MaxHTMLTags, or more
// chunks or text than the limits, fails permanently before it is parsed
// or as soon as it is over.
func (l Limits) ExtractWeb(body []byte, sourceURL, finalURL, contentType string) (*SourceDocument, error) {
	mediaType, params := parseContentType(contentType)
	text := decodeWebBody(body, params["charset"])

	var (
		title string
		meta  = DocMetadata{FinalURL: finalURL, ContentType: mediaType}
		c     = &chunks{b: l.budget()}
	)
	add := func(block string) error { return c.add(Chunk{ChunkType: ChunkWebContent, Text: block}) }
	if mediaType == "text/plain" {
		if err := eachBlock(cleanText(text), add); err != nil {
			return nil, err
		}
		if len(c.out) > 0 {
			first, _, _ := strings.Cut(c.out[0].Text, "\n")
			title = truncateRunes(collapse(first), maxWebTitleRunes)
		}
	} else {
		if err := countElements(strings.NewReader(text), c.b); err != nil {
			return nil, err
		}
		var (
			blocks []string
			err    error
		)
		title, meta.SiteName, blocks, err = readableBlocks(text)
		if err != nil {
			return nil, err
		}
		for _, b := range blocks {
			if err := add(b); err != nil {
				return nil, err
			}
		}
	}
	if title == "" {
		title = finalURL
		if title == "" {
			title = sourceURL
		}
	}
	doc := &SourceDocument{SourceType: string(course.SourceWeb), SourceURL: sourceURL, Title: title, Metadata: meta, Chunks: c.out}
	return finish(doc, MsgNoReadable)
}

// parseContentType returns the lower-case media type and the parameters
// of a Content-Type header. A malformed header yields the part before the
// first ";" and no parameters.
func parseContentType(contentType string) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
		return strings.ToLower(strings.TrimSpace(mt)), nil
	}
	return mt, params
}

// decodeWebBody converts body to valid UTF-8. A charset label known to the
// WHATWG encoding registry (e.g. iso-8859-1, windows-1251, shift_jis) is
// decoded; without a usable label the body is taken as UTF-8 with invalid
// bytes replaced by U+FFFD. A leading UTF-8 byte-order mark is dropped.
func decodeWebBody(body []byte, label string) string {
	if label = strings.TrimSpace(label); label != "" {
		if enc, name := charset.Lookup(label); enc != nil && name != "utf-8" {
			if out, err := enc.NewDecoder().Bytes(body); err == nil {
				return strings.ToValidUTF8(string(out), "\uFFFD")
			}
		}
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	return strings.TrimPrefix(s, "\uFEFF")
}

// readableBlocks runs readability over an HTML page and returns the title,
// the site name and the text blocks of the main content.
func readableBlocks(page string) (title, siteName string, blocks []string, err error) {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		// The parser only rejects pages nested deeper than it supports;
		// retrying cannot help.
		return "", "", nil, Permanent(MsgNoReadable)
	}
	parser := readability.NewParser()
	// The page URL is only used to absolutise links, which are not part of
	// the extracted text, so none is given.
	article, err := parser.ParseAndMutate(doc, nil)
	if err != nil {
		return "", "", nil, fmt.Errorf("readability: %w", err)
	}
	w := &webWalker{}
	if article.Node != nil {
		w.walk(article.Node)
		w.flush()
	}
	title = collapse(article.Title())
	if title == "" {
		title = w.firstHeading
	}
	return title, collapse(article.SiteName()), w.blocks, nil
}

// webSkipped are elements whose content is never part of the readable text
// of a web page, even if readability kept them.
var webSkipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Nav: true, atom.Aside: true, atom.Footer: true, atom.Iframe: true,
	atom.Svg: true, atom.Form: true, atom.Button: true,
	atom.Select: true, atom.Textarea: true, atom.Input: true, atom.Object: true,
	atom.Embed: true, atom.Head: true, atom.Title: true,
}

// webBlocks are elements whose text becomes one chunk, unless they contain
// further blocks (e.g. li > p, blockquote > p), in which case they are
// walked.
var webBlocks = map[atom.Atom]bool{
	atom.P: true, atom.Li: true, atom.Blockquote: true, atom.Dt: true,
	atom.Dd: true, atom.Figcaption: true, atom.Caption: true,
}

// webInline are phrasing elements that do not break a block of loose text.
var webInline = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.B: true, atom.Bdi: true, atom.Bdo: true,
	atom.Cite: true, atom.Code: true, atom.Data: true, atom.Del: true,
	atom.Dfn: true, atom.Em: true, atom.Font: true, atom.I: true, atom.Ins: true,
	atom.Kbd: true, atom.Label: true, atom.Mark: true, atom.Q: true, atom.S: true,
	atom.Samp: true, atom.Small: true, atom.Span: true, atom.Strike: true,
	atom.Strong: true, atom.Sub: true, atom.Sup: true, atom.Time: true,
	atom.Tt: true, atom.U: true, atom.Var: true, atom.Wbr: true, atom.Img: true,
}

// webWalker turns the readability content node into text blocks.
type webWalker struct {
	blocks       []string
	firstHeading string
	loose        strings.Builder
}

func (w *webWalker) emit(s string) {
	if s != "" {
		w.blocks = append(w.blocks, s)
	}
}

// flush emits the loose text collected since the last block boundary.
func (w *webWalker) flush() {
	w.emit(collapse(w.loose.String()))
	w.loose.Reset()
}

func (w *webWalker) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.loose.WriteString(n.Data)
		return
	case html.ElementNode:
		a := n.DataAtom
		switch {
		case webSkipped[a]:
			return
		case a == atom.Br:
			w.loose.WriteByte(' ')
			return
		case headingHTML[a] > 0:
			w.flush()
			t := collapse(webText(n))
			if w.firstHeading == "" {
				w.firstHeading = t
			}
			w.emit(t)
			return
		case a == atom.Tr:
			w.flush()
			w.emit(tableRow(n))
			return
		case a == atom.Pre:
			w.flush()
			w.emit(cleanText(webText(n)))
			return
		case webBlocks[a] && !hasWebBlock(n):
			w.flush()
			w.emit(collapse(webText(n)))
			return
		case a == 0 || webInline[a]:
			// phrasing content (or an unknown element): part of loose text
		default:
			w.flush()
			defer w.flush()
		}
	case html.CommentNode, html.DoctypeNode:
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
}

// tableRow joins the non-empty cells of a table row with " | ".
func tableRow(tr *html.Node) string {
	var cells []string
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.DataAtom == atom.Td || c.DataAtom == atom.Th) {
			if t := collapse(webText(c)); t != "" {
				cells = append(cells, t)
			}
		}
	}
	return strings.Join(cells, " | ")
}

// hasWebBlock reports whether n contains an element that forms a block of
// its own.
func hasWebBlock(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || webSkipped[c.DataAtom] {
			continue
		}
		a := c.DataAtom
		if headingHTML[a] > 0 || webBlocks[a] || a == atom.Pre || a == atom.Tr ||
			a == atom.Table || a == atom.Ul || a == atom.Ol || a == atom.Dl || hasWebBlock(c) {
			return true
		}
	}
	return false
}

// webText concatenates the text below n, skipping unreadable elements;
// <br> becomes a line break and table cells are separated by " | ".
func webText(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			if webSkipped[n.DataAtom] {
				return
			}
			switch n.DataAtom {
			case atom.Br:
				b.WriteByte('\n')
				return
			case atom.Td, atom.Th:
				if b.Len() > 0 {
					b.WriteString(" | ")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
