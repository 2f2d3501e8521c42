package ingest

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// Fuzz targets: extractors must return errors, never panic, on any input.
// Seed corpora live in testdata/fuzz/<Name>/.

func checkChunkText(t *testing.T, chunks []Chunk) {
	for _, c := range chunks {
		if !utf8.ValidString(c.Text) || c.Text == "" {
			t.Fatalf("bad chunk text %q", c.Text)
		}
	}
}

func FuzzDocx(f *testing.F) {
	f.Add(buildDocx(f, wp("Heading1", "T")+wp("", "p")+`<w:tbl><w:tr><w:tc>`+wp("", "c")+`</w:tc></w:tr></w:tbl>`))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		chunks, err := ExtractDocx(data)
		if err != nil && !IsPermanent(err) {
			t.Fatalf("non-permanent error for bad input: %v", err)
		}
		checkChunkText(t, chunks)
	})
}

func FuzzPptx(f *testing.F) {
	f.Add(buildPptx(f, []string{slideXML("a", "b"), slideXML("c")}, []int{2, 1}))
	f.Add(buildZip(f, zipFile{"ppt/slides/slide1.xml", slideXML("x")}))
	f.Fuzz(func(t *testing.T, data []byte) {
		slides, err := PptxSlides(data)
		if err != nil && !IsPermanent(err) {
			t.Fatalf("non-permanent error for bad input: %v", err)
		}
		for _, s := range slides {
			if !utf8.ValidString(cleanText(s)) {
				t.Fatalf("invalid UTF-8 in %q", s)
			}
		}
	})
}

func FuzzHTML(f *testing.F) {
	f.Add([]byte(`<title>t</title><h1>H</h1><ul><li><p>x</p></li></ul><script>y</script>`))
	f.Add([]byte("<table><td><pre>a\n b</pre></td></table>\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, chunks, err := ExtractHTML(data)
		if err != nil {
			return
		}
		checkChunkText(t, chunks)
		cfg := ChunkConfig{Target: 20, Max: 40, Overlap: 5}
		out, err := ChunkDocument(&SourceDocument{Chunks: chunks}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range out {
			if c.TokenCount > cfg.Max {
				t.Fatalf("chunk of %d tokens above max %d", c.TokenCount, cfg.Max)
			}
		}
	})
}

func FuzzTimecode(f *testing.F) {
	for _, s := range []string{"00:00", "1:02:03", "59:60", "-1:00", "99:99:99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTimecode(s)
		if err != nil {
			if !errors.Is(err, ErrBadTimecode) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		if v < 0 {
			t.Fatalf("%q parsed to negative %d", s, v)
		}
		if back, err := ParseTimecode(FormatTimecode(v)); err != nil || back != v {
			t.Fatalf("%q -> %d does not round-trip: %d, %v", s, v, back, err)
		}
	})
}

func FuzzWeb(f *testing.F) {
	f.Add([]byte(`<title>T</title><nav>n</nav><article><h2>H</h2><p>a <b>b</b></p><ul><li>c<ul><li>d</li></ul></li></ul><table><tr><td>1</td><th>2</th></tr></table><pre>x
 y</pre></article><footer>f</footer>`), "text/html; charset=utf-8")
	f.Add([]byte("caf\xe9\n\n\xff\xfe"), "text/plain; charset=iso-8859-1")
	f.Fuzz(func(t *testing.T, data []byte, contentType string) {
		doc, err := ExtractWeb(data, "https://s.example/", "https://f.example/", contentType)
		if err != nil {
			if !IsPermanent(err) || err.Error() != MsgNoReadable {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if doc.SourceType != "web" || !utf8.ValidString(doc.Title) || !utf8.ValidString(doc.Metadata.SiteName) {
			t.Fatalf("bad document %+v", doc)
		}
		checkChunkText(t, doc.Chunks)
		for i, c := range doc.Chunks {
			if c.Index != i || c.ChunkType != ChunkWebContent {
				t.Fatalf("chunk %d = %+v", i, c)
			}
		}
	})
}
