package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ChunkConfig is CHUNK_TARGET_TOKENS / CHUNK_MAX_TOKENS /
// CHUNK_OVERLAP_TOKENS (docs/configuration.md).
type ChunkConfig struct {
	Target  int
	Max     int
	Overlap int
	// MaxChunks caps the retrieval chunks of one document (INGEST_MAX_CHUNKS;
	// 0: no cap): splitting long paragraphs can add chunks after extraction.
	MaxChunks int
}

// Validate requires 0 ≤ Overlap < Target-1 and Target ≤ Max.
func (c ChunkConfig) Validate() error {
	if c.Target < 2 || c.Max < c.Target || c.Overlap < 0 || c.Overlap >= c.Target-1 {
		return fmt.Errorf("ingest: invalid chunk config %+v (need 0 <= overlap < target-1, target <= max)", c)
	}
	return nil
}

// MaterialChunk is one retrieval chunk of a material (a material_chunks
// row without ids and embedding).
type MaterialChunk struct {
	Index       int           `json:"chunk_index"`
	ChunkType   string        `json:"chunk_type"`
	Text        string        `json:"text"`
	TokenCount  int           `json:"token_count"`
	Metadata    ChunkMetadata `json:"metadata"`
	ContentHash string        `json:"content_hash"` // SHA-256 hex of Text
}

// EstimateTokens is ceil(UTF-8 rune count / 4) (docs/design/jobs.md, "Ingest").
func EstimateTokens(s string) int { return (utf8.RuneCountInString(s) + 3) / 4 }

type piece struct {
	c         Chunk
	mergeable bool
}

// ChunkDocument splits doc into material chunks (docs/design/jobs.md, "Ingest"). A source
// chunk above Max tokens is split at paragraph, then sentence, then word
// boundaries into pieces of at most Target tokens, each after the first
// starting with the last ≤ Overlap tokens of its predecessor; pieces keep
// the source chunk's type and metadata. Consecutive unsplit chunks of the
// same type, slide and heading level are merged while the result stays
// within Target (merged transcripts keep the first start_sec and the last
// end_sec). No chunk exceeds Max; indexes are dense from 0.
func ChunkDocument(doc *SourceDocument, cfg ChunkConfig) ([]MaterialChunk, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var pieces []piece
	for _, c := range doc.Chunks {
		c.Text = strings.TrimSpace(c.Text)
		if c.Text == "" {
			continue
		}
		if EstimateTokens(c.Text) <= cfg.Max {
			pieces = append(pieces, piece{c: c, mergeable: true})
			continue
		}
		for _, t := range splitText(c.Text, cfg) {
			p := c
			p.Text = t
			pieces = append(pieces, piece{c: p})
		}
	}
	var merged []piece
	for _, p := range pieces {
		if n := len(merged); n > 0 && canMerge(merged[n-1], p) {
			last := &merged[n-1]
			sep := "\n\n"
			if p.c.ChunkType == ChunkTranscript {
				sep = " "
			}
			if text := last.c.Text + sep + p.c.Text; EstimateTokens(text) <= cfg.Target {
				last.c.Text = text
				if p.c.Metadata.EndSec != nil {
					last.c.Metadata.EndSec = p.c.Metadata.EndSec
				}
				continue
			}
		}
		if cfg.MaxChunks > 0 && len(merged) == cfg.MaxChunks {
			return nil, Permanent(fmt.Sprintf(msgTooManyChunks, cfg.MaxChunks))
		}
		merged = append(merged, p)
	}
	out := make([]MaterialChunk, len(merged))
	for i, p := range merged {
		sum := sha256.Sum256([]byte(p.c.Text))
		out[i] = MaterialChunk{Index: i, ChunkType: p.c.ChunkType, Text: p.c.Text,
			TokenCount: EstimateTokens(p.c.Text), Metadata: p.c.Metadata, ContentHash: hex.EncodeToString(sum[:])}
	}
	return out, nil
}

func canMerge(a, b piece) bool {
	return a.mergeable && b.mergeable && a.c.ChunkType == b.c.ChunkType &&
		a.c.Metadata.SlideNumber == b.c.Metadata.SlideNumber && a.c.Metadata.Level == b.c.Metadata.Level
}

// unit is an indivisible run of text and the separator that preceded it.
type unit struct{ sep, text string }

// splitText packs units greedily into pieces of at most cfg.Target tokens.
func splitText(text string, cfg ChunkConfig) []string {
	limit := 4 * (cfg.Target - cfg.Overlap - 1) // runes per unit
	var units []unit
	for pi, para := range splitBlocks(text) {
		sep := "\n\n"
		if pi == 0 {
			sep = ""
		}
		units = append(units, splitUnit(sep, para, limit)...)
	}
	var pieces []string
	cur := ""
	for _, u := range units {
		if cur == "" {
			cur = u.text
			continue
		}
		if cand := cur + u.sep + u.text; EstimateTokens(cand) <= cfg.Target {
			cur = cand
			continue
		}
		pieces = append(pieces, cur)
		if prefix := tail(cur, 4*cfg.Overlap); prefix != "" {
			sep := u.sep
			if sep == "" && !strings.HasSuffix(cur, prefix) {
				sep = " "
			}
			cur = prefix + sep + u.text
		} else {
			cur = u.text
		}
	}
	if cur != "" {
		pieces = append(pieces, cur)
	}
	return pieces
}

// splitUnit splits a paragraph into sentences, and a sentence into words
// and, for over-long words, rune windows, until each unit fits limit runes.
func splitUnit(sep, para string, limit int) []unit {
	if utf8.RuneCountInString(para) <= limit {
		return []unit{{sep, para}}
	}
	var out []unit
	for si, sent := range sentences(para) {
		s := " "
		if si == 0 {
			s = sep
		}
		if utf8.RuneCountInString(sent) <= limit {
			out = append(out, unit{s, sent})
			continue
		}
		for wi, w := range strings.Fields(sent) {
			ws := " "
			if wi == 0 {
				ws = s
			}
			r := []rune(w)
			for len(r) > limit {
				out = append(out, unit{ws, string(r[:limit])})
				r, ws = r[limit:], ""
			}
			out = append(out, unit{ws, string(r)})
		}
	}
	return out
}

// sentences splits after . ! ? … and CJK full stops followed by space.
func sentences(s string) []string {
	var out []string
	r := []rune(s)
	start := 0
	for i := 0; i < len(r); i++ {
		end := strings.ContainsRune(".!?…。！？", r[i]) && (i+1 == len(r) || unicode.IsSpace(r[i+1]))
		if end || i+1 == len(r) {
			if t := strings.TrimSpace(string(r[start : i+1])); t != "" {
				out = append(out, t)
			}
			start = i + 1
		}
	}
	return out
}

// tail returns the end of s, at most maxRunes long, starting at a word
// boundary when there is one.
func tail(s string, maxRunes int) string {
	if maxRunes <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= maxRunes {
		return strings.TrimSpace(s)
	}
	t := string(r[len(r)-maxRunes:])
	if i := strings.IndexFunc(t, unicode.IsSpace); i >= 0 && strings.TrimSpace(t[i:]) != "" {
		t = t[i:]
	}
	return strings.TrimSpace(t)
}
