package ingest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"strings"
	"testing"
)

func TestDocx(t *testing.T) {
	body := wp("Title", "Course") + wp("Heading2", "Part &amp; One") + wp("heading 3", "Sub") +
		`<w:p><w:r><w:t>Hello</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve"> world</w:t></w:r></w:p>` +
		wp("", "   ") + wp("Heading9", "not a heading") +
		`<w:tbl><w:tr><w:tc>` + wp("", "a1") + `</w:tc><w:tc>` + wp("", "b1") + wp("", "b1bis") + `</w:tc></w:tr>` +
		`<w:tr><w:tc>` + wp("", "a2") + `</w:tc><w:tc></w:tc></w:tr></w:tbl>` + wp("", "after")
	doc, err := ExtractText("lesson.docx", buildDocx(t, body), "")
	if err != nil {
		t.Fatal(err)
	}
	checkChunks(t, doc.Chunks, []want{
		{ChunkHeading, "Course", 1},
		{ChunkHeading, "Part & One", 2},
		{ChunkHeading, "Sub", 3},
		{ChunkParagraph, "Hello\t world", 0},
		{ChunkParagraph, "not a heading", 0},
		{ChunkParagraph, "a1 | b1 b1bis", 0},
		{ChunkParagraph, "a2 | ", 0},
		{ChunkParagraph, "after", 0},
	})
	if doc.Title != "Course" || doc.Metadata.Format != "docx" {
		t.Errorf("doc = %+v", doc)
	}
}

func TestPptxOrderAndText(t *testing.T) {
	slides := []string{slideXML("Third in order"), slideXML("Welcome", "to Go"), slideXML(), slideXML("Second &lt;b&gt;")}
	// Presentation order: slide2, slide4, slide1, slide3 (empty).
	data := buildPptx(t, slides, []int{2, 4, 1, 3})
	doc, err := ExtractPptx(data, "s3://x", "Deck")
	if err != nil {
		t.Fatal(err)
	}
	if *doc.Metadata.PageCount != 4 || doc.Metadata.Format != "pptx" || doc.SourceType != "presentation" {
		t.Errorf("metadata = %+v", doc.Metadata)
	}
	exp := []struct {
		n    int
		text string
	}{{1, "Welcome\nto Go"}, {2, "Second <b>"}, {3, "Third in order"}}
	if len(doc.Chunks) != len(exp) {
		t.Fatalf("chunks = %+v", doc.Chunks)
	}
	for i, e := range exp {
		c := doc.Chunks[i]
		if c.ChunkType != ChunkSlideText || c.Metadata.SlideNumber != e.n || c.Text != e.text || c.Index != i {
			t.Errorf("chunk %d = %+v, want slide %d %q", i, c, e.n, e.text)
		}
	}
}

func TestPptxFallbackNumericOrder(t *testing.T) {
	var files []zipFile
	for _, n := range []int{10, 2, 1} {
		files = append(files, zipFile{fmt.Sprintf("ppt/slides/slide%d.xml", n), slideXML(fmt.Sprintf("s%d", n))})
	}
	slides, err := PptxSlides(buildZip(t, files...))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(slides, ""); got != "s1\ns2\ns10\n" {
		t.Errorf("slides = %q, want numeric order", got)
	}
}

func TestMalformedArchives(t *testing.T) {
	bomb := zipBomb(t, MaxArchiveBytes+1, MaxArchiveBytes+1)
	liar := zipBomb(t, MaxArchiveBytes+1, 1000) // header understates the size
	var manyBuf bytes.Buffer                    // MaxArchiveEntries+1 empty stored entries
	mz := zip.NewWriter(&manyBuf)
	for i := 0; i <= MaxArchiveEntries; i++ {
		if _, err := mz.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("f%d", i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	mz.Close()
	cases := []struct {
		name    string
		data    []byte
		tooLarg bool
	}{
		{"not a zip", []byte("PK\x03\x04 definitely not a zip"), false},
		{"empty", nil, false},
		{"no document.xml", buildZip(t, zipFile{"other.xml", "<a/>"}), false},
		{"broken xml", buildZip(t, zipFile{"word/document.xml", "<w:document><w:p>"}), false},
		{"bomb", bomb, true},
		{"lying header", liar, false},
		{"too many entries", manyBuf.Bytes(), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ExtractDocx(c.data)
			if err == nil || !IsPermanent(err) {
				t.Fatalf("docx err = %v, want a permanent error", err)
			}
			if c.tooLarg != errors.Is(err, ErrArchiveTooLarge) {
				t.Errorf("docx err = %v, ErrArchiveTooLarge expected: %v", err, c.tooLarg)
			}
			if _, err := PptxSlides(c.data); err == nil || !IsPermanent(err) {
				t.Errorf("pptx err = %v, want a permanent error", err)
			}
		})
	}
}

func TestArchiveBudgetIsShared(t *testing.T) {
	data := buildZip(t, zipFile{"a", strings.Repeat("x", 600)}, zipFile{"b", strings.Repeat("y", 600)})
	a, err := openArchive(data, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.read("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.read("b"); !errors.Is(err, ErrArchiveTooLarge) {
		t.Errorf("second read over the shared budget: %v", err)
	}
}

// zipBomb returns a ZIP whose word/document.xml inflates to n zero bytes
// from ~n/160 compressed bytes, declaring declared as its size. The
// deflate stream is written by hand (one fixed-Huffman block: a literal
// 0, then length-258/distance-1 matches), so building it is instant.
func zipBomb(t *testing.T, n, declared int) []byte {
	var out []byte
	var acc uint64
	var nb uint
	put := func(v uint64, width uint) { // LSB-first bit packing
		acc |= v << nb
		for nb += width; nb >= 8; nb -= 8 {
			out = append(out, byte(acc))
			acc >>= 8
		}
	}
	code := func(c uint64, width uint) { put(bits.Reverse64(c)>>(64-width), width) } // Huffman codes MSB-first
	put(1, 1)                                                                        // BFINAL
	put(1, 2)                                                                        // BTYPE = fixed Huffman
	code(0x30, 8)                                                                    // literal 0
	matches, rest := (n-1)/258, (n-1)%258
	for i := 0; i < matches; i++ {
		code(0xC5, 8) // length symbol 285 = 258
		code(0, 5)    // distance code 0 = 1
	}
	for i := 0; i < rest; i++ {
		code(0x30, 8)
	}
	code(0, 7) // end of block (256)
	if nb > 0 {
		out = append(out, byte(acc))
	}
	crc, zero := uint32(0), make([]byte, 1<<20)
	for left := n; left > 0; left -= len(zero) {
		crc = crc32.Update(crc, crc32.IEEETable, zero[:min(left, len(zero))])
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "word/document.xml", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(out)), UncompressedSize64: uint64(declared)})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(out)
	zw.Close()
	return buf.Bytes()
}

func TestZipBombInflatesAsDeclared(t *testing.T) {
	data := zipBomb(t, 1<<20, 1<<20)
	if len(data) > 16<<10 {
		t.Errorf("bomb is %d bytes, not compact", len(data))
	}
	a, err := openArchive(data, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.read("word/document.xml")
	if err != nil || len(b) != 1<<20 || bytes.Count(b, []byte{0}) != len(b) {
		t.Fatalf("inflated %d bytes, %v", len(b), err)
	}
}
