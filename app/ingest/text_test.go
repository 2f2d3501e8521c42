package ingest

import (
	"strings"
	"testing"
	"time"
)

type want struct {
	typ   string
	text  string
	level int
}

func checkChunks(t *testing.T, got []Chunk, exp []want) {
	t.Helper()
	if len(got) != len(exp) {
		t.Fatalf("got %d chunks %+v, want %d", len(got), got, len(exp))
	}
	for i, w := range exp {
		g := got[i]
		if g.ChunkType != w.typ || g.Text != w.text || g.Metadata.Level != w.level {
			t.Errorf("chunk %d = {%s %q level %d}, want {%s %q level %d}", i, g.ChunkType, g.Text, g.Metadata.Level, w.typ, w.text, w.level)
		}
	}
}

func TestMarkdown(t *testing.T) {
	md := "# Python 101\r\n\nIntro line one\nline two.\n\n## Setup ##\n\n- item a\n- item b\n\n```\n# not a heading\n\ncode\n```\n\nSetext Title\n============\n\n###### Deep\n#nospace is text\n"
	got, err := ExtractMarkdown(md)
	if err != nil {
		t.Fatal(err)
	}
	checkChunks(t, got, []want{
		{ChunkHeading, "Python 101", 1},
		{ChunkParagraph, "Intro line one\nline two.", 0},
		{ChunkHeading, "Setup", 2},
		{ChunkParagraph, "- item a\n- item b", 0},
		{ChunkParagraph, "# not a heading\n\ncode", 0},
		{ChunkHeading, "Setext Title", 1},
		{ChunkHeading, "Deep", 6},
		{ChunkParagraph, "#nospace is text", 0},
	})
}

func TestPlain(t *testing.T) {
	got, err := ExtractPlain("  first para\nstill first\n \t\n\n\nsecond\r\n\r\nthird  ")
	if err != nil {
		t.Fatal(err)
	}
	checkChunks(t, got, []want{
		{ChunkParagraph, "first para\nstill first", 0},
		{ChunkParagraph, "second", 0},
		{ChunkParagraph, "third", 0},
	})
}

func TestHTML(t *testing.T) {
	page := `<!doctype html><html><head><title> Lesson  1 </title><style>p{}</style><script>var x="<p>no</p>";</script></head>
<body><header><h1>Site banner</h1></header><nav><ul><li>Home</li></ul></nav>
<main><h1>Variables</h1><p>A <b>variable</b>
   holds a value.</p><ul><li><p>first</p></li><li>second</li></ul>
<div>loose text<div>inner</div></div><pre>x := 1
y := 2</pre><table><tr><td>cell</td></tr></table><noscript>enable js</noscript>
<aside>ad</aside><h3>End</h3></main><footer><p>(c) 2026</p></footer></body></html>`
	title, chunks, err := ExtractHTML([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Lesson 1" {
		t.Errorf("title = %q", title)
	}
	checkChunks(t, chunks, []want{
		{ChunkHeading, "Variables", 1},
		{ChunkParagraph, "A variable holds a value.", 0},
		{ChunkParagraph, "first", 0},
		{ChunkParagraph, "second", 0},
		{ChunkParagraph, "loose text", 0},
		{ChunkParagraph, "inner", 0},
		{ChunkParagraph, "x := 1\ny := 2", 0},
		{ChunkParagraph, "cell", 0},
		{ChunkHeading, "End", 3},
	})
}

func TestExtractTextDispatch(t *testing.T) {
	doc, err := ExtractText("notes/Lesson.MD", []byte("intro\n\n# Heading\n\nbad \xff byte"), "s3://b/k")
	if err != nil {
		t.Fatal(err)
	}
	if doc.SourceType != "text" || doc.Metadata.Format != "md" || doc.Title != "Heading" || doc.SourceURL != "s3://b/k" {
		t.Errorf("doc = %+v", doc)
	}
	for i, c := range doc.Chunks {
		if c.Index != i {
			t.Errorf("index %d at position %d", c.Index, i)
		}
	}
	if got := doc.Chunks[2].Text; got != "bad \uFFFD byte" {
		t.Errorf("invalid UTF-8 not replaced: %q", got)
	}
	doc, err = ExtractText("a.txt", []byte("just text"), "")
	if err != nil || doc.Title != "a.txt" || doc.Metadata.Format != "txt" {
		t.Fatalf("txt: %+v %v", doc, err)
	}
	doc, err = ExtractText("page.htm", []byte("<title>T</title><p>x</p>"), "")
	if err != nil || doc.Title != "T" {
		t.Fatalf("htm: %+v %v", doc, err)
	}
	for name, body := range map[string]string{"empty.txt": " \n\n\t", "blank.md": "\n \n", "none.html": "<!-- --><script>x()</script><nav>menu</nav>"} {
		_, err := ExtractText(name, []byte(body), "")
		if !IsPermanent(err) || err.Error() != MsgNoText {
			t.Errorf("%s: err = %v, want permanent %q", name, err, MsgNoText)
		}
	}
	if _, err := ExtractText("x.rtf", []byte("x"), ""); !IsPermanent(err) {
		t.Errorf("unsupported extension: %v", err)
	}
}

func TestCanonical(t *testing.T) {
	mk := func(at time.Time) *SourceDocument {
		return &SourceDocument{SourceType: "text", Title: "<T & U>", ProcessedAt: at,
			Chunks:   []Chunk{{ChunkType: ChunkTranscript, Text: "hi", Metadata: ChunkMetadata{StartSec: ptr(0.0), EndSec: ptr(1.5)}}},
			Metadata: DocMetadata{Format: "md"}}
	}
	a, err := Canonical(mk(time.Unix(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	const exp = `{"source_type":"text","source_url":"","title":"<T & U>","chunks":[{"chunk_type":"transcript","text":"hi","index":0,"metadata":{"start_sec":0,"end_sec":1.5}}],"metadata":{"format":"md"}}`
	if string(a) != exp {
		t.Errorf("canonical =\n%s\nwant\n%s", a, exp)
	}
	h1, _ := ProcessedHash(mk(time.Unix(1, 0)))
	h2, _ := ProcessedHash(mk(time.Now()))
	if h1 != h2 || len(h1) != 64 {
		t.Errorf("hash depends on processed_at or is malformed: %s %s", h1, h2)
	}
	empty, _ := Canonical(&SourceDocument{})
	if !strings.Contains(string(empty), `"chunks":[]`) {
		t.Errorf("nil chunks not []: %s", empty)
	}
	if _, err := Canonical(nil); err == nil {
		t.Error("nil doc accepted")
	}
}

// Ensure NUL characters, which PostgreSQL text cannot store, never reach
// a document (a UTF-16 text file is full of them).
func TestNULBytesAreRemoved(t *testing.T) {
	doc, err := ExtractText("win.txt", []byte("H\x00e\x00l\x00l\x00o\x00\n\n\x00\x00\n\nworld\x00"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Chunks) != 2 || doc.Chunks[0].Text != "Hello" || doc.Chunks[1].Text != "world" || doc.Chunks[1].Index != 1 {
		t.Fatalf("chunks %+v", doc.Chunks)
	}
	if _, err := ExtractText("nul.txt", []byte("\x00\x00"), ""); !IsPermanent(err) {
		t.Fatalf("only NULs: %v", err)
	}
}
