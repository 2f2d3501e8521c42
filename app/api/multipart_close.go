package api

import (
	"bytes"
	"io"
)

// delimiterWatch passes a multipart body through and notes whether the
// close delimiter ("--" boundary "--") went by, so the end of a body can be
// told from its truncation (docs/design/uploads-and-storage.md, "Streamed
// upload": a broken body is a 400). It keeps only the last len(close)-1
// bytes of the previous read, so a delimiter split across reads is found.
type delimiterWatch struct {
	r     io.Reader
	close []byte
	tail  []byte
	seen  bool
}

func newDelimiterWatch(r io.Reader, boundary string) *delimiterWatch {
	c := []byte("--" + boundary + "--")
	return &delimiterWatch{r: r, close: c, tail: make([]byte, 0, 2*len(c))}
}

func (w *delimiterWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 && !w.seen {
		w.scan(p[:n])
	}
	return n, err //nolint:wrapcheck // io.EOF must pass through unwrapped
}

func (w *delimiterWatch) scan(b []byte) {
	keep := len(w.close) - 1
	// The delimiter may start in the kept tail and end in b.
	head := b[:min(len(b), keep)]
	w.tail = append(w.tail, head...)
	if bytes.Contains(w.tail, w.close) || bytes.Contains(b, w.close) {
		w.seen = true
		return
	}
	last := b
	if len(b) < keep {
		last = w.tail
	}
	w.tail = append(w.tail[:0], last[max(0, len(last)-keep):]...)
}
