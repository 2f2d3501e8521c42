package api

import (
	"bytes"
	"io"
)

// maxCloseLine is the longest last line mime/multipart can take for the
// close delimiter at the very end of a body: it reads lines through a
// 4 KiB buffer, and a longer line is an error before the end is seen.
const maxCloseLine = 4096

// delimiterWatch passes a multipart body through and tells its end from
// its truncation (docs/design/uploads-and-storage.md, "Streamed upload": a
// broken body is a 400). mime/multipart answers a bare io.EOF both after
// the close delimiter ("--" boundary "--") and when the body stops right
// after a delimiter line; the watch therefore turns the body's io.EOF into
// io.ErrUnexpectedEOF unless the body's last line is the close delimiter.
// A close delimiter followed by a line break (and any epilogue) needs no
// help: mime/multipart ends the form on that line before it reads on.
//
// Only the last line is kept, so a read costs a backward search of at most
// maxCloseLine bytes for its last '\n' (a few hundred on media bytes), not
// a scan of every byte.
type delimiterWatch struct {
	r     io.Reader
	close []byte
	last  []byte // the bytes after the last '\n' so far, unless long
	long  bool   // the last line is longer than maxCloseLine
}

func newDelimiterWatch(r io.Reader, boundary string) *delimiterWatch {
	return &delimiterWatch{r: r, close: []byte("--" + boundary + "--")}
}

func (w *delimiterWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.track(p[:n])
	}
	if err == io.EOF && !w.endsClosed() { //nolint:errorlint // the io.Reader contract: EOF itself
		err = io.ErrUnexpectedEOF
	}
	return n, err //nolint:wrapcheck // io.EOF must pass through unwrapped
}

// track keeps the last line of the body read so far.
func (w *delimiterWatch) track(b []byte) {
	tail := b[max(0, len(b)-maxCloseLine):]
	if i := bytes.LastIndexByte(tail, '\n'); i >= 0 {
		w.last = append(w.last[:0], tail[i+1:]...)
		w.long = false
		return
	}
	if w.long || len(tail) < len(b) || len(w.last)+len(b) > maxCloseLine {
		w.last, w.long = w.last[:0], true
		return
	}
	w.last = append(w.last, b...)
}

// endsClosed reports whether the last line is the close delimiter, with
// the trailing spaces and tabs mime/multipart allows.
func (w *delimiterWatch) endsClosed() bool {
	rest, ok := bytes.CutPrefix(w.last, w.close)
	return ok && !w.long && len(bytes.TrimLeft(rest, " \t")) == 0
}
