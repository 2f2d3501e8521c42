package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// sentence returns a deterministic sentence of about 10 words.
func sentence(r *rand.Rand, i int) string {
	words := make([]string, 0, 10)
	for j := 0; j < 9; j++ {
		words = append(words, fmt.Sprintf("w%dx%d", i, r.IntN(1000)))
	}
	return strings.Join(words, " ") + " end."
}

func paragraph(r *rand.Rand, base, n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = sentence(r, base+i)
	}
	return strings.Join(s, " ")
}

func TestChunkSplitBoundariesMaxOverlap(t *testing.T) {
	cfg := defaultChunkConfig()
	r := rand.New(rand.NewPCG(1, 2))
	// Three ~300-token paragraphs (≈ 1200 characters each) in one chunk.
	paras := []string{paragraph(r, 0, 15), paragraph(r, 100, 15), paragraph(r, 200, 15)}
	long := strings.Repeat("x", 4*cfg.Max*2) // one 1600-token "word"
	cjk := strings.Repeat("漢字", 2000)        // no spaces at all
	huge := paragraph(r, 300, 200)           // one paragraph, many sentences
	doc := &SourceDocument{Chunks: []Chunk{
		{ChunkType: ChunkParagraph, Text: strings.Join(paras, "\n\n")},
		{ChunkType: ChunkParagraph, Text: huge},
		{ChunkType: ChunkParagraph, Text: long},
		{ChunkType: ChunkSlideText, Text: cjk, Metadata: ChunkMetadata{SlideNumber: 7}},
	}}
	out, err := ChunkDocument(doc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range out {
		if c.TokenCount > cfg.Max || c.TokenCount != EstimateTokens(c.Text) || c.Index != i {
			t.Errorf("chunk %d: %d tokens (max %d), index %d", i, c.TokenCount, cfg.Max, c.Index)
		}
		if c.TokenCount > cfg.Target {
			t.Errorf("split piece %d has %d tokens, above target %d", i, c.TokenCount, cfg.Target)
		}
		if c.ChunkType == ChunkSlideText && c.Metadata.SlideNumber != 7 {
			t.Errorf("slide metadata lost on piece %d", i)
		}
	}
	// Paragraph boundaries: the 3 paragraphs fit 400 tokens one at a
	// time, so each appears whole in some piece.
	for i, p := range paras {
		found := false
		for _, c := range out {
			found = found || strings.Contains(c.Text, p)
		}
		if !found {
			t.Errorf("paragraph %d was cut", i)
		}
	}
	// Sentence boundaries: every sentence of the huge paragraph is whole.
	for _, s := range sentences(huge) {
		found := false
		for _, c := range out {
			found = found || strings.Contains(c.Text, s)
		}
		if !found {
			t.Fatalf("sentence %q was cut", s)
		}
	}
	// Overlap: each split piece after the first of its source chunk starts
	// with the end of its predecessor, at most Overlap tokens of it.
	overlaps := 0
	for i := 1; i < len(out); i++ {
		prev, cur := out[i-1].Text, out[i].Text
		for n := 4 * cfg.Overlap; n > 0; n-- {
			pr := []rune(prev)
			if n <= len(pr) && strings.HasPrefix(cur, string(pr[len(pr)-n:])) {
				overlaps++
				break
			}
		}
	}
	if overlaps < len(out)-4 { // each of the 4 source chunks starts fresh
		t.Errorf("only %d of %d pieces overlap their predecessor", overlaps, len(out))
	}
}

func TestChunkMergeSmall(t *testing.T) {
	ts := func(s, e float64, text string) Chunk {
		return Chunk{ChunkType: ChunkTranscript, Text: text, Metadata: ChunkMetadata{StartSec: ptr(s), EndSec: ptr(e)}}
	}
	doc := &SourceDocument{Chunks: []Chunk{
		{ChunkType: ChunkHeading, Text: "Intro", Metadata: ChunkMetadata{Level: 1}},
		{ChunkType: ChunkParagraph, Text: "one"},
		{ChunkType: ChunkParagraph, Text: "two"},
		{ChunkType: ChunkSlideText, Text: "s1", Metadata: ChunkMetadata{SlideNumber: 1}},
		{ChunkType: ChunkSlideText, Text: "s2", Metadata: ChunkMetadata{SlideNumber: 2}},
		ts(0, 1.5, "hello"), ts(1.5, 3, "world"), ts(3, 4, "  "), ts(4, 9, "again"),
		{ChunkType: ChunkParagraph, Text: strings.Repeat("y", 4*350)}, // 350 tokens
		{ChunkType: ChunkParagraph, Text: strings.Repeat("z", 4*100)}, // would exceed 400
	}}
	out, err := ChunkDocument(doc, defaultChunkConfig())
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(out))
	for i, c := range out {
		got[i] = c.ChunkType + ":" + c.Text
		if len(c.Text) > 20 {
			got[i] = fmt.Sprintf("%s:%c*%d", c.ChunkType, c.Text[0], len(c.Text))
		}
	}
	want := []string{"heading:Intro", "paragraph:one\n\ntwo", "slide_text:s1", "slide_text:s2",
		"transcript:hello world again", "paragraph:y*1400", "paragraph:z*400"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	tr := out[4].Metadata
	if *tr.StartSec != 0 || *tr.EndSec != 9 {
		t.Errorf("merged transcript spans %v-%v, want 0-9", *tr.StartSec, *tr.EndSec)
	}
	if out[2].Metadata.SlideNumber != 1 || out[3].Metadata.SlideNumber != 2 || out[0].Metadata.Level != 1 {
		t.Errorf("metadata lost: %+v", out)
	}
}

func TestChunkDeterministicHashes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	doc := &SourceDocument{Chunks: []Chunk{{ChunkType: ChunkParagraph, Text: paragraph(r, 0, 150)}}}
	a, err := ChunkDocument(doc, defaultChunkConfig())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ChunkDocument(doc, defaultChunkConfig())
	if !reflect.DeepEqual(a, b) || len(a) < 3 {
		t.Fatalf("not deterministic or not split: %d vs %d chunks", len(a), len(b))
	}
	for _, c := range a {
		sum := sha256.Sum256([]byte(c.Text))
		if c.ContentHash != hex.EncodeToString(sum[:]) {
			t.Errorf("hash of chunk %d is not SHA-256 of its text", c.Index)
		}
	}
}

func TestChunkConfigValidation(t *testing.T) {
	for _, c := range []ChunkConfig{{0, 800, 40, 0}, {400, 300, 40, 0}, {400, 800, -1, 0}, {400, 800, 399, 0}} {
		if _, err := ChunkDocument(&SourceDocument{}, c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	out, err := ChunkDocument(&SourceDocument{Chunks: []Chunk{{ChunkType: ChunkParagraph, Text: strings.Repeat("word ", 2000)}}}, ChunkConfig{Target: 100, Max: 150, Overlap: 0})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range out {
		if c.TokenCount > 100 || strings.HasPrefix(c.Text, " ") {
			t.Errorf("no-overlap piece %d: %d tokens %q", c.Index, c.TokenCount, c.Text[:10])
		}
	}
}
