package api

import (
	"io"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// jsonAppender is a response body that writes its own JSON (node_tree.go).
type jsonAppender interface {
	appendJSON(dst []byte) []byte
}

// jsonFormat is huma's JSON format, except that bodies which write their
// own JSON skip encoding/json. Content negotiation is unchanged: the same
// media types map to it.
var jsonFormat = huma.Format{Marshal: marshalJSON, Unmarshal: huma.DefaultJSONFormat.Unmarshal}

// jsonFormats replaces huma's default formats (the same keys).
func jsonFormats() map[string]huma.Format {
	return map[string]huma.Format{"application/json": jsonFormat, "json": jsonFormat}
}

// maxPooledJSON bounds the buffers kept for reuse, so one huge response
// does not stay in memory.
const maxPooledJSON = 256 << 10

var jsonBuffers = sync.Pool{New: func() any { return new([]byte) }}

// marshalJSON writes v as huma's default format does (encoding/json, HTML
// escaping off, a trailing newline), through a pooled buffer when v
// writes its own JSON.
func marshalJSON(w io.Writer, v any) error {
	a, ok := v.(jsonAppender)
	if !ok {
		return huma.DefaultJSONFormat.Marshal(w, v)
	}
	bp, _ := jsonBuffers.Get().(*[]byte)
	b := append(a.appendJSON((*bp)[:0]), '\n')
	_, err := w.Write(b)
	if cap(b) <= maxPooledJSON {
		*bp = b[:0]
		jsonBuffers.Put(bp)
	}
	return err
}
